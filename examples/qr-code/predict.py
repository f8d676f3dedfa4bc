"""QR-code generator built on the `qrcode` library and Pillow."""

import tempfile

import qrcode
import qrcode.exceptions
from cog import BasePredictor, Input, Path
from PIL import Image, ImageColor
from qrcode.image.styledpil import StyledPilImage
from qrcode.image.styles.moduledrawers.pil import (
    CircleModuleDrawer,
    GappedSquareModuleDrawer,
    HorizontalBarsDrawer,
    RoundedModuleDrawer,
    SquareModuleDrawer,
    VerticalBarsDrawer,
)

ERROR_CORRECTION = {
    "L": qrcode.constants.ERROR_CORRECT_L,  # ~7% of the code can be damaged
    "M": qrcode.constants.ERROR_CORRECT_M,  # ~15%
    "Q": qrcode.constants.ERROR_CORRECT_Q,  # ~25%
    "H": qrcode.constants.ERROR_CORRECT_H,  # ~30%
}

MODULE_STYLES = {
    "square": SquareModuleDrawer,
    "rounded": RoundedModuleDrawer,
    "circle": CircleModuleDrawer,
    "gapped": GappedSquareModuleDrawer,
    "vertical-bars": VerticalBarsDrawer,
    "horizontal-bars": HorizontalBarsDrawer,
}

# Cog reads `choices` without running this file (cog build parses it statically), so
# they must be literal lists; the check below keeps them in step with the tables.
ERROR_CORRECTION_CHOICES = ["L", "M", "Q", "H"]
MODULE_STYLE_CHOICES = ["square", "rounded", "circle", "gapped", "vertical-bars", "horizontal-bars"]
assert ERROR_CORRECTION_CHOICES == list(ERROR_CORRECTION)
assert MODULE_STYLE_CHOICES == list(MODULE_STYLES)

# Keep outputs reasonable: a version-40 code at box size 40 would be ~7,900 px wide.
MAX_SIDE_PX = 4096


def _parse_color(value: str, name: str) -> tuple[int, int, int]:
    try:
        return ImageColor.getrgb(value.strip())[:3]
    except ValueError:
        raise ValueError(
            f"{name} {value!r} is not a colour: "
            "use a hex code like '#1e40af' or a CSS name like 'navy'"
        ) from None


def _luminance(rgb: tuple[int, int, int]) -> float:
    """Relative luminance (WCAG), used only to warn about low-contrast codes."""

    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


class Predictor(BasePredictor):
    def setup(self) -> None:
        # Nothing to load: QR encoding is pure computation.
        pass

    def predict(
        self,
        text: str = Input(
            default="https://github.com/replicate/cog",
            min_length=1,
            max_length=2000,
            description="Text or URL to encode. Longer text makes a denser code.",
        ),
        error_correction: str = Input(
            default="M",
            choices=ERROR_CORRECTION_CHOICES,
            description="Error-correction level: L (7%), M (15%), Q (25%) or H (30%) of the code can be damaged or covered and still scan. Higher levels make a denser code.",
        ),
        box_size: int = Input(
            default=12,
            ge=1,
            le=40,
            description="Size of each QR module (dot) in pixels.",
        ),
        border: int = Input(
            default=4,
            ge=0,
            le=16,
            description="Quiet-zone width around the code, in modules. The QR standard asks for at least 4.",
        ),
        module_style: str = Input(
            default="square",
            choices=MODULE_STYLE_CHOICES,
            description="Shape of the modules. Finder patterns stay scannable with every style.",
        ),
        fill_color: str = Input(
            default="#111827",
            description="Colour of the dark modules: hex code (#RRGGBB) or CSS colour name.",
        ),
        back_color: str = Input(
            default="#ffffff",
            description="Background colour: hex code (#RRGGBB) or CSS colour name.",
        ),
    ) -> Path:
        fill = _parse_color(fill_color, "fill_color")
        back = _parse_color(back_color, "back_color")
        lf, lb = _luminance(fill), _luminance(back)
        contrast = (max(lf, lb) + 0.05) / (min(lf, lb) + 0.05)
        if contrast < 3:
            print(
                f"Warning: low contrast ({contrast:.1f}:1) between fill and background; "
                "the code may not scan."
            )
        if lf > lb:
            print("Note: light-on-dark (inverted) codes are not supported by every scanner.")

        qr = qrcode.QRCode(
            version=None,  # smallest version that fits the data
            error_correction=ERROR_CORRECTION[error_correction],
            box_size=box_size,
            border=border,
        )
        qr.add_data(text)
        try:
            qr.make(fit=True)
        except (ValueError, qrcode.exceptions.DataOverflowError):
            # The data needs more than version 40 (177x177 modules) allows.
            raise ValueError(
                f"text is too long for a QR code at error-correction level {error_correction} "
                f"({len(text.encode())} bytes); shorten it or choose a lower level such as L"
            ) from None

        modules = qr.modules_count + 2 * border
        if modules * box_size > MAX_SIDE_PX:
            qr.box_size = max(1, MAX_SIDE_PX // modules)
            print(
                f"Reduced box_size from {box_size} to {qr.box_size} to keep the image under "
                f"{MAX_SIDE_PX} px"
            )

        # Draw black on white (qrcode's fast path), then colour the result with
        # the greyscale image as an alpha mask. qrcode's own colour masks work
        # pixel by pixel in Python and take seconds on large codes; compositing
        # is instant and keeps the anti-aliased edges of the rounded styles.
        drawn = qr.make_image(
            image_factory=StyledPilImage,
            module_drawer=MODULE_STYLES[module_style](),
        ).get_image()
        mask = Image.eval(drawn.convert("L"), lambda v: 255 - v)
        out = Image.composite(
            Image.new("RGB", drawn.size, fill), Image.new("RGB", drawn.size, back), mask
        )

        n = qr.modules_count
        print(f"QR version {qr.version}, {n}x{n} modules, image {out.width}x{out.height} px")
        path = Path(tempfile.mkdtemp()) / "qr-code.png"
        out.save(path, optimize=True)
        return path
