"""The search language: free words plus filters, in the text or as parameters.

`speech to text input:audio owner:openai` is the words "speech to text" and two filters.
Filters on different facets combine with AND, values of one facet with OR
(`tag:llm tag:chat` or `tag:llm,chat`: tagged llm or chat).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from registry.errors import InvalidInput
from registry.signatures import KINDS

FACETS: Final = ("owner", "tag", "collection", "hardware", "input", "output")
SORTS: Final = ("relevance", "trending", "run_count", "updated")
MAX_QUERY_LENGTH = 500
MAX_FILTER_VALUES = 20

_FILTER = re.compile(r"(?<!\S)(" + "|".join(FACETS) + r"):(\S+)", re.IGNORECASE)
_TOKEN = re.compile(r"[a-z0-9]+")
_FULL_NAME = re.compile(r"^\s*([a-z0-9][a-z0-9._-]*)/([a-z0-9][a-z0-9._-]*)\s*$")


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    filters: dict[str, tuple[str, ...]]


def parse_query(text: str, filters: Mapping[str, Iterable[str]] | None = None) -> ParsedQuery:
    """Split filters out of `text`, merge them with `filters`, validate both.

    Raises InvalidInput naming the facet when a value cannot match anything (an unknown
    kind) or a facet is unknown.
    """
    text = text[:MAX_QUERY_LENGTH]
    merged: dict[str, list[str]] = {}
    for facet, values in (filters or {}).items():
        if facet not in FACETS:
            raise InvalidInput.single(facet, f"Unknown filter. Use one of: {', '.join(FACETS)}.")
        for value in values:
            _add(merged, facet, value)
    for match in _FILTER.finditer(text):
        _add(merged, match.group(1).lower(), match.group(2))
    free = " ".join(_FILTER.sub(" ", text).split())
    for facet in ("input", "output"):
        unknown = [v for v in merged.get(facet, []) if v not in KINDS]
        if unknown:
            raise InvalidInput.single(
                facet, f"Unknown kind {unknown[0]!r}. Kinds are: {', '.join(KINDS)}."
            )
    for facet, values in merged.items():
        if len(values) > MAX_FILTER_VALUES:
            raise InvalidInput.single(facet, f"At most {MAX_FILTER_VALUES} values.")
    return ParsedQuery(text=free, filters={f: tuple(v) for f, v in merged.items() if v})


def _add(merged: dict[str, list[str]], facet: str, raw: str) -> None:
    for value in raw.split(","):
        value = value.strip().lower()
        if value and value not in merged.setdefault(facet, []):
            merged[facet].append(value)


def tokens(text: str) -> list[str]:
    """The words of a query: lowercase runs of letters and digits."""
    return _TOKEN.findall(text.lower())


def exact_full_name(text: str) -> str | None:
    """`owner/name` when the whole query is one, lowercased."""
    match = _FULL_NAME.match(text.lower())
    return f"{match.group(1)}/{match.group(2)}" if match else None


# Words that name a kind, for "speech to text", "text-to-image", "img2img".
KIND_WORDS: Final = {
    **dict.fromkeys(("text", "prompt", "prompts", "words"), "text"),
    **dict.fromkeys(("image", "images", "img", "photo", "photos", "picture", "pictures"), "image"),
    **dict.fromkeys(("audio", "speech", "voice", "music", "sound", "song", "songs"), "audio"),
    **dict.fromkeys(("video", "videos", "vid", "movie", "animation"), "video"),
}
_INTENT = re.compile(r"\b([a-z]+)(?:[\s_-]+to[\s_-]+|2)([a-z]+)\b")


def signature_intent(text: str) -> tuple[str, str] | None:
    """(input kind, output kind) when the words say "<kind> to <kind>", else None."""
    for match in _INTENT.finditer(text.lower()):
        source, target = KIND_WORDS.get(match.group(1)), KIND_WORDS.get(match.group(2))
        if source and target:
            return source, target
    return None


def validate_sort(sort: str) -> str:
    if sort not in SORTS:
        raise InvalidInput.single("sort", f"Must be one of: {', '.join(SORTS)}.")
    return sort
