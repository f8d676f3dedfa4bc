"""Classic photo filters implemented with Pillow.

Every filter takes a `strength` between 0 and 1. For "look" filters
(grayscale, sepia, invert, edge-enhance, emboss, contour) it blends the
filtered image over the original; for parametric filters (blur, sharpen,
posterize, pixelate) it scales the filter's own parameter.
"""

import tempfile
from collections.abc import Callable

from cog import BasePredictor, Input, Path
from PIL import Image, ImageEnhance, ImageFilter, ImageOps


def _blend(img: Image.Image, filtered: Image.Image, strength: float) -> Image.Image:
    return Image.blend(img, filtered, strength)


def grayscale(img: Image.Image, s: float) -> Image.Image:
    return _blend(img, ImageOps.grayscale(img).convert("RGB"), s)


def sepia(img: Image.Image, s: float) -> Image.Image:
    # Map luminance onto a brown-to-cream ramp instead of using a fixed
    # colour matrix: shadows stay deep and highlights do not clip to yellow.
    toned = ImageOps.colorize(
        ImageOps.grayscale(img), black="#2b1b0e", mid="#a47e55", white="#fff4dc"
    )
    return _blend(img, toned, s)


def invert(img: Image.Image, s: float) -> Image.Image:
    return _blend(img, ImageOps.invert(img), s)


def blur(img: Image.Image, s: float) -> Image.Image:
    # Radius relative to image size so the look is the same at any resolution:
    # at strength 1 the radius is 2% of the longer side.
    radius = s * 0.02 * max(img.size)
    return img.filter(ImageFilter.GaussianBlur(radius)) if radius > 0 else img


def sharpen(img: Image.Image, s: float) -> Image.Image:
    return ImageEnhance.Sharpness(img).enhance(1.0 + 4.0 * s)


def edge_enhance(img: Image.Image, s: float) -> Image.Image:
    return _blend(img, img.filter(ImageFilter.EDGE_ENHANCE_MORE), s)


def emboss(img: Image.Image, s: float) -> Image.Image:
    return _blend(img, img.filter(ImageFilter.EMBOSS), s)


def contour(img: Image.Image, s: float) -> Image.Image:
    return _blend(img, img.filter(ImageFilter.CONTOUR), s)


def posterize(img: Image.Image, s: float) -> Image.Image:
    # strength 0 keeps all 8 bits per channel; strength 1 keeps 1 bit (8 colours).
    bits = max(1, round(8 - 7 * s))
    return ImageOps.posterize(img, bits)


def pixelate(img: Image.Image, s: float) -> Image.Image:
    # Block size up to 1/24 of the longer side; NEAREST keeps hard block edges.
    block = max(1, round(s * max(img.size) / 24))
    if block == 1:
        return img
    small = img.resize((max(1, img.width // block), max(1, img.height // block)), Image.BOX)
    return small.resize(img.size, Image.NEAREST)


FILTERS: dict[str, Callable[[Image.Image, float], Image.Image]] = {
    "grayscale": grayscale,
    "sepia": sepia,
    "blur": blur,
    "sharpen": sharpen,
    "edge-enhance": edge_enhance,
    "emboss": emboss,
    "contour": contour,
    "posterize": posterize,
    "pixelate": pixelate,
    "invert": invert,
}

FORMATS = {
    "png": ("PNG", {"optimize": True}),
    "jpeg": ("JPEG", {"quality": 90}),
    "webp": ("WEBP", {"quality": 90}),
}

# Cog reads `choices` without running this file (cog build parses it statically), so
# they must be literal lists; the check below keeps them in step with the tables.
FILTER_CHOICES = [
    "grayscale", "sepia", "blur", "sharpen", "edge-enhance",
    "emboss", "contour", "posterize", "pixelate", "invert",
]
FORMAT_CHOICES = ["png", "jpeg", "webp"]
assert FILTER_CHOICES == list(FILTERS)
assert FORMAT_CHOICES == list(FORMATS)


class Predictor(BasePredictor):
    def setup(self) -> None:
        # Pillow filters need no model; nothing to load.
        pass

    def predict(
        self,
        image: Path = Input(
            accept="image/*",
            description="Image to transform (PNG, JPEG, WebP, GIF first frame, BMP, TIFF).",
        ),
        filter: str = Input(  # "filter" shadows the builtin but reads best in the form
            default="sepia",
            choices=FILTER_CHOICES,
            description="Filter to apply.",
        ),
        strength: float = Input(
            default=0.8,
            ge=0.0,
            le=1.0,
            description="How strongly to apply the filter, from 0 (unchanged) to 1 (full effect).",
        ),
        max_size: int = Input(
            default=2048,
            ge=64,
            le=4096,
            description="Downscale the image first so its longer side is at most this many pixels.",
        ),
        output_format: str = Input(
            default="png",
            choices=FORMAT_CHOICES,
            description="File format of the result. PNG and WebP keep transparency; JPEG is smallest for photos.",
        ),
    ) -> Path:
        img = Image.open(image)
        img = ImageOps.exif_transpose(img)  # honour camera rotation tags
        fmt, options = FORMATS[output_format]
        alpha = None
        if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
            img = img.convert("RGBA")
            if fmt == "JPEG":
                # JPEG has no alpha: flatten onto white rather than black.
                background = Image.new("RGBA", img.size, "white")
                img = Image.alpha_composite(background, img)
            else:
                alpha = img.getchannel("A")  # filter the colours, then restore it
        img = img.convert("RGB")

        if max(img.size) > max_size:
            img.thumbnail((max_size, max_size), Image.LANCZOS)
            if alpha is not None:
                alpha = alpha.resize(img.size, Image.LANCZOS)
            print(f"Downscaled to {img.width}x{img.height}")

        out = FILTERS[filter](img, strength)

        if alpha is not None:
            out.putalpha(alpha)

        path = Path(tempfile.mkdtemp()) / f"{filter}.{output_format}"
        out.save(path, fmt, **options)
        print(f"Applied {filter} at strength {strength} to a {out.width}x{out.height} image")
        return path
