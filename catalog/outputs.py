"""A prediction's output, shaped for display by the version's `Output` schema.

`output_parts(document, output)` turns whatever a model returned into a small tree of
`OutputPart`s (text, number, JSON, image, audio, video, file, list, object fields, or
growing text for `ConcatenateIterator` outputs) that `catalog/partials/output.html`
renders without knowing anything about schemas.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from catalog.modality import media_kind
from catalog.schemas import JSON, object_properties, output_schema, primary_type, resolved

PartKind = Literal[
    "empty", "text", "number", "json", "image", "audio", "video", "file", "list", "object",
    "stream",
]  # fmt: skip

_EXTENSIONS: dict[str, PartKind] = {
    **dict.fromkeys(("png", "jpg", "jpeg", "webp", "gif", "bmp", "svg", "avif"), "image"),
    **dict.fromkeys(("mp3", "wav", "ogg", "oga", "flac", "m4a", "aac", "opus"), "audio"),
    **dict.fromkeys(("mp4", "webm", "mov", "mkv", "m4v"), "video"),
}
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?[;,]")
# Outputs that came back inline are stored under their content's digest (and a suffix the
# storage adds on a clash): not a name to offer for a download.
_DIGEST_NAME = re.compile(r"^[0-9a-f]{32}(_[A-Za-z0-9]{7})?(?P<extension>\.\w+)?$")


@dataclass
class OutputPart:
    kind: PartKind
    value: Any = None
    label: str = ""
    items: list[OutputPart] = field(default_factory=list)
    fields: list[tuple[str, OutputPart]] = field(default_factory=list)
    filename: str = ""

    @property
    def file_name(self) -> str:
        """A name for a download link: the one given, else the URL's last path segment."""
        if self.filename:
            return self.filename
        text = str(self.value or "")
        if text.startswith("data:"):
            mime = _DATA_URL.match(text)
            subtype = (mime.group("mime") or "x/bin").split("/")[-1] if mime else "bin"
            return f"output.{subtype}"
        name = unquote(urlparse(text).path.rsplit("/", 1)[-1])
        return name or "output"


def output_parts(
    document: JSON | None, output: Any, *, hint: str = "", streaming: bool = False
) -> OutputPart:
    """The display tree of `output` under the document's `Output` schema.

    `streaming` marks output that is still growing (a running prediction)."""
    part = _part(document, output_schema(document), output, hint=hint)
    if streaming and part.kind == "stream":
        part.label = "streaming"
    return part


def value_part(
    document: JSON | None, schema: JSON, value: Any, *, name: str = "", hint: str = ""
) -> OutputPart:
    """One value (an input, say) shaped for display by its own schema."""
    return _part(document, schema, value, hint=hint, name=name)


def _part(
    document: JSON | None, schema: JSON, value: Any, *, hint: str, name: str = ""
) -> OutputPart:
    schema = resolved(document, schema) if schema else {}
    if value is None:
        return OutputPart("empty")
    if isinstance(value, list):
        if schema.get("x-cog-array-display") == "concatenate":
            return OutputPart("stream", "".join(str(v) for v in value if v is not None))
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        assert isinstance(items, dict)
        return OutputPart(
            "list", items=[_part(document, items, v, hint=hint, name=name) for v in value]
        )
    if isinstance(value, dict):
        properties = object_properties(document, schema)
        if properties:
            known = {p.name for p in properties}
            fields = [
                (p.title, _part(document, p.schema, value[p.name], hint=hint, name=p.name))
                for p in properties
                if p.name in value
            ]
            fields += [
                (k, _part(document, {}, v, hint=hint, name=k))
                for k, v in value.items()
                if k not in known
            ]
            return OutputPart("object", fields=fields)
        return OutputPart("json", json.dumps(value, indent=2, ensure_ascii=False))
    if isinstance(value, bool):
        return OutputPart("text", "true" if value else "false")
    if isinstance(value, int | float):
        return OutputPart("number", value)
    text = str(value)
    if schema.get("format") == "uri" or _looks_like_file_url(text, schema):
        kind = _media_of(text, schema, hint=hint, name=name)
        return OutputPart(kind, text, filename=_stored_name(text, name))
    if primary_type(schema) in ("object", "array"):
        return OutputPart("json", json.dumps(value, indent=2, ensure_ascii=False))
    return OutputPart("text", text)


def _stored_name(url: str, name: str) -> str:
    """A download name for a file stored under its digest: the output's own name."""
    last = unquote(urlparse(url).path.rsplit("/", 1)[-1])
    match = _DIGEST_NAME.match(last)
    if not match:
        return ""
    return f"{name or 'output'}{match['extension'] or ''}"


def _looks_like_file_url(text: str, schema: JSON) -> bool:
    # Schemaless outputs (a deleted version) still show files as files.
    if schema:
        return False
    return bool(_DATA_URL.match(text)) or (
        text.startswith(("http://", "https://")) and _extension_kind(text) is not None
    )


def _extension_kind(url: str) -> PartKind | None:
    path = urlparse(url).path.lower()
    extension = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    return _EXTENSIONS.get(extension)


def _media_of(url: str, schema: JSON, *, hint: str, name: str) -> PartKind:
    match = _DATA_URL.match(url)
    if match and match.group("mime"):
        major = match.group("mime").split("/")[0]
        if major in ("image", "audio", "video"):
            return major  # type: ignore[return-value]
        return "file"
    by_extension = _extension_kind(url)
    if by_extension is not None:
        return by_extension
    guessed = media_kind(name, str(schema.get("description") or ""), hint)
    if guessed == "image":
        return "image"
    if guessed == "audio":
        return "audio"
    if guessed == "video":
        return "video"
    return "file"
