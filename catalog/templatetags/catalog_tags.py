"""Template filters and tags of the catalog pages: counts, freshness, covers, modality,
and prediction outputs."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from catalog import modality as modality_lib
from catalog.outputs import OutputPart, output_parts
from catalog.schemas import describe
from registry.models import MLModel, Prediction

register = template.Library()

_UNITS = ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K"))


@register.filter
def compact_number(value: Any) -> str:
    """1234 → "1.2K", 12345 → "12.3K", 123456 → "123K", 1234567 → "1.2M"."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return ""
    sign = "-" if number < 0 else ""
    number = abs(number)
    for size, unit in _UNITS:
        if number >= size:
            scaled = number / size
            # Round down, so that 999,950 reads "999.9K" and never "1000K".
            if scaled >= 100:
                text = str(int(scaled))
            else:
                text = f"{int(scaled * 10) / 10:.1f}".removesuffix(".0")
            return f"{sign}{text}{unit}"
    return f"{sign}{number}"


@register.filter
def runs(value: Any) -> str:
    """A run count for people: "1 run", "12 runs", "1.2K runs"."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    return f"{compact_number(number)} run{'' if number == 1 else 's'}"


@register.filter
def ago(value: datetime | None) -> str:
    """ "just now", "5 minutes ago", "3 days ago" (the largest unit only)."""
    if value is None:
        return ""
    now = timezone.now()
    if now - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, now, depth=1)} ago"


@register.filter
def seconds(value: Any) -> str:
    """A duration in seconds as "0.42s", "3.1s", "2m 5s"."""
    try:
        total = float(value)
    except (TypeError, ValueError):
        return ""
    if total < 10:
        return f"{total:.2f}s" if total < 1 else f"{total:.1f}s"
    if total < 60:
        return f"{int(total)}s"
    minutes, rest = divmod(int(total), 60)
    if minutes < 60:
        return f"{minutes}m {rest}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m"


@register.filter
def elapsed(prediction: Prediction) -> str:
    """How long a prediction ran (or has been running)."""
    start = prediction.started_at or prediction.created_at
    end = prediction.completed_at or timezone.now()
    if start is None:
        return ""
    return seconds(max((end - start).total_seconds(), 0.0))


@register.filter
def cover_url(model: MLModel) -> str:
    """The uploaded cover, else the external one, else "" (the placeholder is drawn)."""
    if model.cover_image:
        return str(model.cover_image.url)
    return model.cover_image_url


@register.filter
def placeholder_style(model: MLModel) -> str:
    """Two soft colours picked by the model's name: every model gets its own cover."""
    digest = hashlib.sha256(model.full_name.encode()).digest()
    hue = digest[0] * 360 // 256
    second = (hue + 40 + digest[1] % 80) % 360
    angle = 100 + digest[2] % 80
    return f"background: linear-gradient({angle}deg, hsl({hue} 70% 88%), hsl({second} 65% 80%));"


@register.filter
def initials(model: MLModel) -> str:
    parts = [p for p in model.name.replace("_", "-").replace(".", "-").split("-") if p]
    return "".join(p[0] for p in parts[:2]).upper() or model.name[:1].upper()


@register.filter
def modality(model: MLModel) -> modality_lib.Modality:
    """What goes in and out of the model's latest version (needs `latest_version` joined)."""
    return modality_lib.for_model(model)


@register.simple_tag
def prediction_output(prediction: Prediction, document: Any = None) -> OutputPart:
    """`{% prediction_output prediction as part %}`: the output shaped by its schema."""
    if document is None:
        version = prediction.version
        document = version.openapi_schema if version is not None else None
    return output_parts(
        document,
        prediction.output,
        hint=prediction.model.description if prediction.model_id else "",
        streaming=not prediction.is_terminal,
    )


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def describe_schema(schema: Any) -> str:
    return describe(schema) if isinstance(schema, dict) and schema else "nothing"
