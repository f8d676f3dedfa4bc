"""What a model takes and returns, as the pages say it ("image, text → image").

The kinds come from `registry.signatures` — the same derivation search filters and
facets use — so a card's label and the search page's "input"/"output" filters agree. This
module only decides how they are shown: media first, numbers and switches left out when
anything else is there, a stream named by what it streams.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

from registry import signatures
from registry.models import MLModel

KINDS = signatures.KINDS
# The order kinds are named in a label: media first, plain options last.
_INPUT_ORDER = ("image", "video", "audio", "file", "text", "json", "list", "number", "boolean")
_OUTPUT_ORDER = ("image", "video", "audio", "file", "json", "text", "list", "number", "boolean")
_SETTINGS = ("number", "boolean")


def media_kind(*hints: str) -> str:
    """image, audio or video by the first hint that names one; else file."""
    return signatures.media_kind(*hints)


@dataclass(frozen=True)
class Modality:
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    # Every kind either side holds (the label names only the main ones).
    all_inputs: frozenset[str] = field(default_factory=frozenset)
    all_outputs: frozenset[str] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        if not self.inputs and not self.outputs:
            return ""
        return f"{_words(self.inputs)} → {_words(self.outputs)}"

    def __str__(self) -> str:
        return self.label


def _words(kinds: tuple[str, ...]) -> str:
    if kinds[:1] == ("stream",):
        return f"{signatures.label(kinds[1])} stream" if len(kinds) > 1 else "stream"
    return ", ".join(signatures.label(k) for k in kinds) or "nothing"


def from_kinds(
    inputs: list[str] | tuple[str, ...], outputs: list[str] | tuple[str, ...]
) -> Modality:
    shown_in = [k for k in _INPUT_ORDER if k in inputs]
    if any(k not in _SETTINGS for k in shown_in):
        shown_in = [k for k in shown_in if k not in _SETTINGS]  # settings, not the point
    main_out = next((k for k in _OUTPUT_ORDER if k in outputs), None)
    shown_out: tuple[str, ...] = ()
    if main_out is not None:
        shown_out = ("stream", main_out) if "stream" in outputs else (main_out,)
    elif "stream" in outputs:
        shown_out = ("stream",)
    return Modality(
        inputs=tuple(shown_in[:3]),
        outputs=shown_out,
        all_inputs=frozenset(inputs),
        all_outputs=frozenset(outputs),
    )


def derive(document: Any, *, hint: str = "") -> Modality:
    """The modality of a version's schema; `hint` (the model's description) tells what an
    unnamed output file is."""
    if not document:
        return Modality()
    signature = signatures.derive_signature(document, context=hint)
    return from_kinds(signature.inputs, signature.outputs)


def cache_key(version_id: str) -> str:
    return f"catalog:modality:v2:{version_id}"


def for_version(version_id: str | None, document: Any, *, hint: str = "") -> Modality:
    """`derive`, cached by version id: a published version's schema never changes."""
    if not version_id:
        return Modality()
    key = cache_key(version_id)
    cached = cache.get(key)
    if isinstance(cached, Modality):
        return cached
    modality = derive(document, hint=hint)
    cache.set(key, modality, timeout=None)
    return modality


def for_model(model: MLModel) -> Modality:
    """A model's modality: from its search row when the query brought it along (no schema
    to parse), else from its latest version's schema."""
    if MLModel.search_document.is_cached(model):
        document = model.search_document
        if document is not None:
            return from_kinds(document.input_kinds, document.output_kinds)
    version = model.latest_version
    if version is None:
        return Modality()
    return for_version(version.id, version.openapi_schema, hint=model.description)
