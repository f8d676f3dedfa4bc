"""Optical character recognition with RapidOCR (PP-OCRv4 models on ONNX Runtime).

The detection, orientation and recognition models ship inside the
`rapidocr-onnxruntime` wheel, so nothing is downloaded at run time.
"""

from typing import Any

from cog import BaseModel, BasePredictor, Input, Path
from rapidocr_onnxruntime import RapidOCR


class Output(BaseModel):
    # Cog 0.23 cannot nest a BaseModel inside a list in an output, so each box
    # is a plain JSON object: {"text", "confidence", "points", "line"}.
    text: str
    boxes: list[dict]


def _group_into_lines(boxes: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Group word/phrase boxes into reading-order lines.

    RapidOCR returns boxes roughly top-to-bottom, but words on a slightly tilted
    line can come out of order. We sort by vertical centre, start a new line
    whenever a box's centre is more than half a box-height away from the
    current line's mean centre, then sort each line left to right.
    """

    def centre_y(b: dict[str, Any]) -> float:
        return sum(p[1] for p in b["points"]) / 4

    def height(b: dict[str, Any]) -> float:
        ys = [p[1] for p in b["points"]]
        return max(ys) - min(ys)

    lines: list[list[dict[str, Any]]] = []
    line_centres: list[float] = []
    for box in sorted(boxes, key=centre_y):
        cy = centre_y(box)
        if lines and abs(cy - line_centres[-1]) <= 0.5 * max(height(box), 1.0):
            lines[-1].append(box)
            n = len(lines[-1])
            line_centres[-1] = line_centres[-1] + (cy - line_centres[-1]) / n
        else:
            lines.append([box])
            line_centres.append(cy)
    return [sorted(line, key=lambda b: min(p[0] for p in b["points"])) for line in lines]


class Predictor(BasePredictor):
    def setup(self) -> None:
        """Load the three ONNX models (about 16 MB) once per process."""
        self.engine = RapidOCR()

    def predict(
        self,
        image: Path = Input(
            accept="image/*",
            description="Image containing printed text (PNG, JPEG, WebP, BMP). Photos, screenshots and scanned documents work best when the text is at least ~15 px tall.",
        ),
        min_confidence: float = Input(
            default=0.5,
            ge=0.0,
            le=1.0,
            description="Drop recognised text whose confidence is below this value.",
        ),
        box_threshold: float = Input(
            default=0.5,
            ge=0.0,
            le=1.0,
            description="Text-detection threshold: lower finds fainter text but may add false boxes.",
        ),
        detect_rotation: bool = Input(
            default=True,
            description="Run the orientation classifier so upside-down text is read correctly (slightly slower).",
        ),
    ) -> Output:
        # RapidOCR stores per-call thresholds on the engine object, so every
        # call passes all of them explicitly (the model runs one prediction at a time).
        result, _elapsed = self.engine(
            str(image),
            use_cls=detect_rotation,
            box_thresh=box_threshold,
            unclip_ratio=1.6,
            text_score=min_confidence,
        )

        boxes = [
            {
                "text": text,
                "confidence": round(float(score), 4),
                # Four corner points, clockwise from top-left, in input-image pixels.
                "points": [[round(float(x), 1), round(float(y), 1)] for x, y in points],
            }
            for points, text, score in (result or [])
        ]

        lines = _group_into_lines(boxes)
        ordered: list[dict[str, Any]] = []
        for line_no, line in enumerate(lines):
            for box in line:
                box["line"] = line_no
                ordered.append(box)
        text = "\n".join(" ".join(b["text"] for b in line) for line in lines)
        print(f"Found {len(ordered)} text boxes on {len(lines)} lines")
        return Output(text=text, boxes=ordered)
