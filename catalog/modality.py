"""What goes into a model and what comes out ("image → text"), derived from its Cog schema.

Cog types files as `{"type": "string", "format": "uri"}` whatever they hold, so images,
audio and video are told apart by hints: the property's name, title, description,
`x-cog-accept`, and for outputs (which have no name of their own) the model's description.
A version is immutable, so its modality is cached by version id for good.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from django.core.cache import cache

from catalog.schemas import JSON, input_properties, output_schema, primary_type, resolved

Kind = Literal["text", "number", "image", "audio", "video", "file", "JSON", "list", "stream"]
KINDS: tuple[Kind, ...] = (
    "text",
    "number",
    "image",
    "audio",
    "video",
    "file",
    "JSON",
    "list",
    "stream",
)
# The order kinds are named in a label: media first, plain options last.
_LABEL_ORDER: dict[str, int] = {
    kind: i
    for i, kind in enumerate(
        ("image", "video", "audio", "file", "text", "stream", "JSON", "list", "number")
    )
}

_HINTS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("video", re.compile(r"video|movie|\bclip\b|mp4|webm|\bmov\b|footage|animation", re.I)),
    (
        "audio",
        re.compile(
            r"audio|sound|speech|voice|music|song|wav|mp3|flac|\bogg\b|vocal|melody|tts|"
            r"transcri|speaker",
            re.I,
        ),
    ),
    (
        "image",
        re.compile(
            r"image|img|photo|picture|\bpic\b|mask|png|jpe?g|webp|\bgif\b|portrait|"
            r"\bface|sketch|drawing|qr|selfie|thumbnail|avatar|poster|depth",
            re.I,
        ),
    ),
)


def media_kind(*hints: str) -> Kind:
    """image, audio or video by the first hint that names one; else file."""
    for hint in hints:
        if not hint:
            continue
        for kind, pattern in _HINTS:
            if pattern.search(hint):
                return kind
    return "file"


def kinds_of(
    document: JSON | None, schema: JSON, *, name: str = "", hint: str = ""
) -> tuple[Kind, ...]:
    """The kinds one schema holds, the main one first; () for options (bool, enum, secret)."""
    schema = resolved(document, schema)
    kind = primary_type(schema)
    if schema.get("enum") is not None or kind == "boolean":
        return ()
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "uri":
            accept = str(schema.get("x-cog-accept") or "")
            return (
                media_kind(
                    accept,
                    name,
                    str(schema.get("title") or ""),
                    str(schema.get("description") or ""),
                    hint,
                ),
            )
        if fmt == "password" or schema.get("x-cog-secret"):
            return ()
        return ("text",)
    if kind in ("integer", "number"):
        return ("number",)
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        assert isinstance(items, dict)
        inner = kinds_of(document, items, name=name, hint=hint)
        if schema.get("x-cog-array-type") == "iterator":
            if schema.get("x-cog-array-display") == "concatenate":
                return ("stream", "text")
            return _unique(("stream", *inner))
        if inner and inner[0] in ("image", "audio", "video", "file"):
            return _unique((inner[0], "list"))
        return ("list",)
    if kind == "object" or schema.get("properties"):
        return ("JSON",)
    return ("JSON",) if schema else ()


def _unique(kinds: tuple[Kind, ...]) -> tuple[Kind, ...]:
    return tuple(dict.fromkeys(kinds))


@dataclass(frozen=True)
class Modality:
    inputs: tuple[Kind, ...] = ()
    outputs: tuple[Kind, ...] = ()
    # Every kind either side holds, for filtering (the label names only the main ones).
    all_inputs: frozenset[str] = field(default_factory=frozenset)
    all_outputs: frozenset[str] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        if not self.inputs and not self.outputs:
            return ""
        return f"{_words(self.inputs)} → {_words(self.outputs)}"

    def __str__(self) -> str:
        return self.label


def _words(kinds: tuple[Kind, ...]) -> str:
    if kinds[:1] == ("stream",):
        return f"{kinds[1]} stream" if len(kinds) > 1 else "stream"
    return ", ".join(kinds) or "nothing"


def _label_kinds(main: list[Kind], *, limit: int = 3) -> tuple[Kind, ...]:
    kinds = sorted(set(main), key=lambda k: _LABEL_ORDER.get(k, 99))
    if len(kinds) > 1 and "number" in kinds:
        kinds.remove("number")  # numbers are settings, unless that is all there is
    return tuple(kinds[:limit])


def derive(document: JSON | None, *, hint: str = "") -> Modality:
    """The modality of a version's schema; `hint` (the model's description) helps outputs."""
    if not document:
        return Modality()
    main_in: list[Kind] = []
    all_in: set[str] = set()
    for prop in input_properties(document):
        kinds = kinds_of(document, prop.schema, name=prop.name)
        if kinds:
            main_in.append(kinds[0])
            all_in.update(kinds)
    out = output_schema(document)
    out_kinds = kinds_of(document, out, hint=hint) if out else ()
    return Modality(
        inputs=_label_kinds(main_in),
        outputs=out_kinds[:2] if out_kinds[:1] == ("stream",) else out_kinds[:1],
        all_inputs=frozenset(all_in),
        all_outputs=frozenset(out_kinds),
    )


def cache_key(version_id: str) -> str:
    return f"catalog:modality:v1:{version_id}"


def for_version(version_id: str | None, document: JSON | None, *, hint: str = "") -> Modality:
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
