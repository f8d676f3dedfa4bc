"""What a model takes and returns, derived from its Cog OpenAPI schema.

Search filters like `input:image output:text` and the input/output facets read the kinds
computed here. They are derived once per latest version (stored on the search document),
never per query.

Kinds: text, number, boolean, image, audio, video, file, json, list, stream.

Cog describes every file (`cog.Path`, `cog.File`) as `{"type": "string", "format": "uri"}`,
so whether a file is an image, audio or video has to be guessed from hints, strongest
first: an `x-cog-accept` list of MIME types or extensions, the property's name, its title
and description, and for outputs (which have no name) the model's own words ("text to
image", "upscaler for photos"). A file with no hint stays a plain `file`.

The derivation never raises: a malformed schema gives whatever kinds can be read from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

KINDS: Final = (
    "text",
    "number",
    "boolean",
    "image",
    "audio",
    "video",
    "file",
    "json",
    "list",
    "stream",
)
MEDIA_KINDS: Final = ("image", "audio", "video")


def kinds_mask(kinds: Iterable[str]) -> int:
    """Kinds as bits, bit i for KINDS[i] (unknown kinds have none): what search documents
    store beside the kinds, so that a filter on them is one AND."""
    return sum(1 << KINDS.index(kind) for kind in set(kinds) if kind in KINDS)


# Words that say what a file is. Matched against whole words of names and descriptions.
MEDIA_WORDS: Final[dict[str, frozenset[str]]] = {
    "image": frozenset(
        {
            "image",
            "images",
            "img",
            "imgs",
            "photo",
            "photos",
            "photograph",
            "picture",
            "pictures",
            "pic",
            "mask",
            "masks",
            "png",
            "jpg",
            "jpeg",
            "webp",
            "bmp",
            "tif",
            "tiff",
            "portrait",
            "selfie",
            "sketch",
            "drawing",
            "screenshot",
            "thumbnail",
            "canny",
            "lineart",
            "scribble",
            "inpainting",
            "upscaler",
            "upscale",
            "upscaling",
        }
    ),
    "audio": frozenset(
        {
            "audio",
            "audios",
            "speech",
            "wav",
            "wave",
            "mp3",
            "flac",
            "ogg",
            "m4a",
            "aac",
            "sound",
            "sounds",
            "voice",
            "voices",
            "music",
            "song",
            "songs",
            "melody",
            "speaker",
            "vocals",
            "vocal",
            "recording",
            "podcast",
            "tts",
        }
    ),
    "video": frozenset(
        {
            "video",
            "videos",
            "mp4",
            "mov",
            "avi",
            "webm",
            "mkv",
            "movie",
            "movies",
            "film",
            "footage",
            "gif",
        }
    ),
}
_EXTENSIONS: Final[dict[str, str]] = {
    ext: kind
    for kind, words in MEDIA_WORDS.items()
    for ext in words
    if ext
    in {
        "png",
        "jpg",
        "jpeg",
        "webp",
        "bmp",
        "tif",
        "tiff",
        "wav",
        "mp3",
        "flac",
        "ogg",
        "m4a",
        "aac",
        "mp4",
        "mov",
        "avi",
        "webm",
        "mkv",
        "gif",
    }
}
_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# "text-to-image", "speech to text", "image2video": the word after "to" names the output.
_TO = re.compile(r"\b([a-z]+)(?:[\s_-]+(?:to|into)[\s_-]+(?:(?:a|an|the)\s+)?|2)([a-z]+)\b")
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Signature:
    """The kinds a version takes and returns, each in `KINDS` order."""

    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()


def derive_signature(schema: Any, *, context: str = "") -> Signature:
    """The signature of a Cog OpenAPI document.

    `context` is free text about the model (name, description, tags); it only decides
    what an unnamed output file is.
    """
    components = _components(schema)
    inputs: set[str] = set()
    input_schema = components.get("Input")
    if isinstance(input_schema, Mapping):
        for name, prop in _properties(input_schema, components).items():
            inputs |= _value_kinds(prop, components, hints=_hint_words(name, prop))
    outputs: set[str] = set()
    if "Output" in components:
        output = components["Output"]
        hints = _hint_words("", output) if isinstance(output, Mapping) else []
        outputs = _value_kinds(output, components, hints=hints, context=context, top=True)
    return Signature(inputs=ordered(inputs), outputs=ordered(outputs))


def media_kind(*texts: str) -> str:
    """image, audio or video by the first text that names one (an `accept` value like
    "image/*" or ".wav", or a name or description); else file."""
    for text in texts:
        if not text:
            continue
        accepted = _accept_kind(text) if ("/" in text or text.startswith(".")) else None
        if accepted:
            return accepted
        for word in words_of(_CAMEL.sub(" ", text)):
            for kind, words in MEDIA_WORDS.items():
                if word in words:
                    return kind
    return "file"


def label(kind: str) -> str:
    """How a kind is named to people."""
    return "JSON" if kind == "json" else kind


def ordered(kinds: Iterable[str]) -> tuple[str, ...]:
    present = set(kinds)
    return tuple(kind for kind in KINDS if kind in present)


def _components(schema: Any) -> Mapping[str, Any]:
    if not isinstance(schema, Mapping):
        return {}
    components = schema.get("components")
    if not isinstance(components, Mapping):
        return {}
    schemas = components.get("schemas")
    return schemas if isinstance(schemas, Mapping) else {}


def _resolve(node: Any, components: Mapping[str, Any], depth: int = 0) -> Mapping[str, Any]:
    """Follow `$ref` and single-element `allOf` (how Cog writes enums) to the real schema,
    keeping the outer keys (description, x-cog-*) over the referenced ones."""
    if not isinstance(node, Mapping) or depth > _MAX_DEPTH:
        return {}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        target = _resolve(components.get(ref.rsplit("/", 1)[1]), components, depth + 1)
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    all_of = node.get("allOf")
    if isinstance(all_of, list) and all_of:
        merged: dict[str, Any] = {}
        for part in all_of:
            merged.update(_resolve(part, components, depth + 1))
        merged.update({k: v for k, v in node.items() if k != "allOf"})
        return merged
    return node


def _properties(node: Mapping[str, Any], components: Mapping[str, Any]) -> dict[str, Any]:
    resolved = _resolve(node, components)
    props = resolved.get("properties")
    if not isinstance(props, Mapping):
        return {}
    return {str(name): prop for name, prop in props.items() if isinstance(prop, Mapping)}


def _value_kinds(
    node: Any,
    components: Mapping[str, Any],
    *,
    hints: list[str],
    context: str = "",
    top: bool = False,
    depth: int = 0,
) -> set[str]:
    schema = _resolve(node, components)
    if depth > _MAX_DEPTH:
        return set()
    if schema.get("x-cog-secret"):
        return set()  # an API key is configuration, not what the model works on
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            kinds: set[str] = set()
            for branch in branches:
                if isinstance(branch, Mapping) and branch.get("type") != "null":
                    kinds |= _value_kinds(
                        {**{k: v for k, v in schema.items() if k != key}, **branch},
                        components,
                        hints=hints,
                        context=context,
                        top=top,
                        depth=depth + 1,
                    )
            return kinds
    kind = schema.get("type")
    if isinstance(kind, list):  # JSON Schema's ["string", "null"]
        kind = next((k for k in kind if k != "null"), None)
    if kind == "string":
        if schema.get("format") == "uri":
            return {_file_kind(schema, hints, context)}
        return {"text"}
    if kind in ("integer", "number"):
        return {"number"}
    if kind == "boolean":
        return {"boolean"}
    if kind == "array":
        items = schema.get("items", {})
        item_hints = hints + (_hint_words("", items) if isinstance(items, Mapping) else [])
        item_kinds = _value_kinds(
            items, components, hints=item_hints, context=context, depth=depth + 1
        )
        if schema.get("x-cog-array-type") == "iterator":
            if schema.get("x-cog-array-display") == "concatenate":
                return item_kinds | {"text", "stream"}  # tokens streamed into one text
            return item_kinds | {"list", "stream"}
        return item_kinds | {"list"}
    if kind == "object" or (kind is None and "properties" in schema):
        kinds = {"json"}
        if top:
            # Structured outputs also say what they carry (Whisper's {transcription, ...}).
            for name, prop in _properties(schema, components).items():
                kinds |= _value_kinds(
                    prop,
                    components,
                    hints=_hint_words(name, prop),
                    context=context,
                    depth=depth + 1,
                )
        return kinds
    if kind is None and "enum" in schema:
        values = schema["enum"]
        numeric = isinstance(values, list) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        )
        return {"number"} if numeric and values else {"text"}
    return {"json"}  # `Any`, or a type Cog does not write


def _file_kind(schema: Mapping[str, Any], hints: list[str], context: str) -> str:
    accepted = _accept_kind(schema.get("x-cog-accept"))
    if accepted:
        return accepted
    for word in hints:
        for kind, words in MEDIA_WORDS.items():
            if word in words:
                return kind
    if context:
        return _context_kind(context) or "file"
    return "file"


def _accept_kind(accept: Any) -> str | None:
    """`x-cog-accept`: "image/*", "audio/wav,audio/mpeg", [".mp4", ".mov"]."""
    if isinstance(accept, str):
        values = [v.strip().lower() for v in accept.split(",")]
    elif isinstance(accept, list):
        values = [str(v).strip().lower() for v in accept]
    else:
        return None
    found = set()
    for value in values:
        major = value.split("/", 1)[0] if "/" in value else ""
        if major in MEDIA_KINDS:
            found.add(major)
        elif value.lstrip(".") in _EXTENSIONS:
            found.add(_EXTENSIONS[value.lstrip(".")])
    return found.pop() if len(found) == 1 else None


def _hint_words(name: str, schema: Mapping[str, Any]) -> list[str]:
    """Words about a value, strongest first: its name, then its title and description."""
    words = words_of(_CAMEL.sub(" ", name))
    for key in ("title", "description"):
        value = schema.get(key)
        if isinstance(value, str):
            words += words_of(_CAMEL.sub(" ", value))
    return words


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _context_kind(context: str) -> str | None:
    """What a model's words say it produces: "text-to-image" says image; otherwise the
    media word used most often wins (first use breaks ties)."""
    text = context.lower()
    for match in _TO.finditer(text):
        target = match.group(2)
        for kind, words in MEDIA_WORDS.items():
            if target in words:
                return kind
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    for position, word in enumerate(words_of(text)):
        for kind, words in MEDIA_WORDS.items():
            if word in words:
                counts[kind] = counts.get(kind, 0) + 1
                first.setdefault(kind, position)
    if not counts:
        return None
    return max(counts, key=lambda kind: (counts[kind], -first[kind]))
