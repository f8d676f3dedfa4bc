"""Reading a version's Cog OpenAPI document: its `Input` properties in order, its `Output`.

Cog writes enum inputs as `{"allOf": [{"$ref": "#/components/schemas/<name>"}], ...}` and
keeps the enum in a component; `resolved` folds such references into the property so that
everything else here sees one flat JSON Schema per property.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]


def components(document: JSON | None) -> JSON:
    """The document's `components.schemas`, or {} for anything malformed."""
    if not isinstance(document, dict):
        return {}
    found = document.get("components")
    schemas = found.get("schemas") if isinstance(found, dict) else None
    return schemas if isinstance(schemas, dict) else {}


def follow_ref(document: JSON | None, ref: str) -> JSON:
    """The node a local `$ref` ("#/components/schemas/x") points at, or {}."""
    if not ref.startswith("#/") or not isinstance(document, dict):
        return {}
    node: Any = document or {}
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return {}
        node = node[part]
    return node if isinstance(node, dict) else {}


def resolved(document: JSON | None, schema: JSON, _depth: int = 0) -> JSON:
    """`schema` with `$ref` and single-entry `allOf` references merged in (own keys win)."""
    if _depth > 8:
        return schema
    merged: JSON = {}
    if "$ref" in schema:
        merged.update(resolved(document, follow_ref(document, str(schema["$ref"])), _depth + 1))
    for part in schema.get("allOf") or []:
        if isinstance(part, dict):
            merged.update(resolved(document, part, _depth + 1))
    own = {k: v for k, v in schema.items() if k not in ("$ref", "allOf")}
    if "title" in merged and "title" not in own and merged.get("enum") is not None:
        # An enum component's title is the parameter's snake name; not a label.
        merged.pop("title")
    if merged.get("description") == "An enumeration.":
        merged.pop("description")  # Cog's boilerplate on every enum component
    merged.update(own)
    return merged


@dataclass(frozen=True)
class Property:
    """One input (or output object) property, with references resolved."""

    name: str
    schema: JSON
    required: bool

    @property
    def title(self) -> str:
        title = self.schema.get("title")
        return str(title) if title else self.name.replace("_", " ").title()

    @property
    def description(self) -> str:
        return str(self.schema.get("description") or "")


def input_schema(document: JSON | None) -> JSON:
    schema = components(document).get("Input")
    return schema if isinstance(schema, dict) else {}


def output_schema(document: JSON | None) -> JSON:
    schema = components(document).get("Output")
    return resolved(document, schema) if isinstance(schema, dict) else {}


def object_properties(document: JSON | None, schema: JSON) -> list[Property]:
    """The properties of an object schema in Cog's `x-order` (then declaration order)."""
    properties = schema.get("properties") or {}
    if not isinstance(properties, dict):
        return []
    required = set(schema.get("required") or [])
    ordered = sorted(
        enumerate(properties.items()),
        key=lambda item: (_order(item[1][1]), item[0]),
    )
    return [
        Property(name=name, schema=resolved(document, prop), required=name in required)
        for _, (name, prop) in ordered
        if isinstance(prop, dict)
    ]


def input_properties(document: JSON | None) -> list[Property]:
    return object_properties(document, input_schema(document))


def _order(prop: Any) -> float:
    if isinstance(prop, dict):
        value = prop.get("x-order")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return float("inf")


def primary_type(schema: JSON) -> str | None:
    """The JSON type of a property; for `anyOf` unions the first non-null member's."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if isinstance(kind, str):
        return kind
    if schema.get("enum"):
        first = schema["enum"][0]
        return "integer" if isinstance(first, int) else "string"
    for option in schema.get("anyOf") or schema.get("oneOf") or []:
        if isinstance(option, dict) and option.get("type") not in (None, "null"):
            return primary_type(option)
    return None


def describe(schema: JSON) -> str:
    """A schema's type in a few words, as the API tab and an empty output panel say it."""
    kind = primary_type(schema)
    if schema.get("x-cog-array-type") == "iterator":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        if schema.get("x-cog-array-display") == "concatenate":
            return "text, streamed as it is generated"
        return f"a stream of {_plural(items if isinstance(items, dict) else {})}"
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return f"a list of {_plural(items if isinstance(items, dict) else {})}"
    if kind == "object":
        names = list((schema.get("properties") or {}).keys())
        return f"an object with {', '.join(names)}" if names else "a JSON object"
    return _singular(schema)


def _singular(schema: JSON) -> str:
    kind = primary_type(schema)
    if schema.get("format") == "uri":
        return "a file (URL)"
    return {
        "string": "text",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true or false",
        "object": "a JSON object",
        "array": "a list",
    }.get(kind or "", "JSON")


def _plural(schema: JSON) -> str:
    kind = primary_type(schema)
    if schema.get("format") == "uri":
        return "files (URLs)"
    return {
        "string": "strings",
        "integer": "integers",
        "number": "numbers",
        "boolean": "booleans",
        "object": "JSON objects",
        "array": "lists",
    }.get(kind or "", "values")
