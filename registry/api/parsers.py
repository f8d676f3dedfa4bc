"""DRF's JSON parser, bounded in depth and refusing NUL characters.

Python's `json` gives up with RecursionError (a 500) on about a thousand levels of
nesting, and whatever walks the value afterwards (schema validation, storage) on fewer:
deeper bodies are a 400 before anything else sees them. Size is bounded earlier, from
Content-Length (`registry.middleware`).

PostgreSQL cannot store a NUL (`\\u0000`) in text or jsonb, SQLite can: refusing it here
makes embedded mode answer as production does, before anything is written or run.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 64


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed JSON value nests containers deeper than `limit` (a scalar: never)."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def holds_nul(value: Any) -> bool:
    """Whether a parsed JSON value has a NUL character in any string, key or value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        message = f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(message) from None
        if too_deep(data):
            raise ParseError(message)
        if holds_nul(data):
            raise ParseError(
                "A value in the request cannot be stored: it contains a NUL character (\\u0000)."
            )
        return data
