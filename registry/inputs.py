"""Validation of prediction inputs against a version's Cog schema, before anything runs.

The schema is OpenAPI 3.0 (Cog's `components.schemas.Input`), checked with jsonschema
after a translation: `$ref`s resolve against the whole document, OpenAPI's `nullable:
true` becomes "or null", and boolean `exclusiveMinimum`/`exclusiveMaximum` become the
numeric form. Unknown fields are dropped, as Cog itself does.

One engine, two wordings: `input_errors` finds what is wrong (one error per field); the
API words it as Cog's own 422s do (`validate_input`), the web form more plainly
(`catalog.schema_forms`).
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from registry.errors import InvalidInput

FILE_SCHEMES = ("http://", "https://", "data:")
FILE_MESSAGE = "Must be an http(s):// URL or a data: URI of a file."
format_checker = FormatChecker()


@format_checker.checks("uri", raises=ValueError)
def _is_file_reference(value: object) -> bool:
    # Cog's file inputs take URLs it can download or inline data URIs.
    if isinstance(value, str) and not value.startswith(FILE_SCHEMES):
        raise ValueError("must be an http(s):// URL or a data: URI")
    return True


def _openapi_to_json_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _openapi_to_json_schema(value) for key, value in node.items()}
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        # OpenAPI 3.0: `exclusiveMinimum: true` qualifies `minimum`.
        if isinstance(converted.get(bound), bool) and converted.pop(bound) and limit in converted:
            converted[bound] = converted.pop(limit)
    # `is True`: a *property* called "nullable" (a schema, so truthy) is not the keyword.
    if converted.get("nullable") is True:
        del converted["nullable"]
        default = converted.pop("default", None)
        wrapped: dict[str, Any] = {"anyOf": [converted, {"type": "null"}]}
        if default is not None:
            wrapped["default"] = default
        return wrapped
    return converted


@functools.lru_cache(maxsize=512)
def _validator_for(schema_json: str) -> Draft202012Validator:
    document = json.loads(schema_json)
    components = document.get("components") if isinstance(document, dict) else None
    schemas = components.get("schemas") if isinstance(components, dict) else None
    if not isinstance(schemas, dict) or not isinstance(schemas.get("Input"), dict):
        # No usable Input schema: nothing to check against (Cog would not check either).
        return Draft202012Validator({"type": "object"}, format_checker=format_checker)
    converted = _openapi_to_json_schema(copy.deepcopy({"schemas": schemas}))
    root = {"$ref": "#/components/schemas/Input", "components": converted}
    return Draft202012Validator(root, format_checker=format_checker)


def input_properties(schema: Any) -> dict[str, Any]:
    components = schema.get("components") if isinstance(schema, dict) else None
    schemas = components.get("schemas") if isinstance(components, dict) else None
    input_schema = schemas.get("Input") if isinstance(schemas, dict) else None
    properties = input_schema.get("properties") if isinstance(input_schema, dict) else None
    return properties if isinstance(properties, dict) else {}


@dataclass(frozen=True)
class InputError:
    """What is wrong with one field: `path` is its location (`["tags", 1]`; empty for the
    input as a whole); `error` the jsonschema error behind it, or None when it is missing."""

    path: tuple[str | int, ...]
    error: ValidationError | None

    @property
    def field(self) -> str:
        return ".".join(str(p) for p in self.path)

    @property
    def missing(self) -> bool:
        return self.error is None


# When a field breaks several rules, the one that says most: a value outside its choices
# also has the wrong type, but "not one of [...]" names what would do.
_PRIORITY = {"enum": 0, "const": 0, "format": 1, "anyOf": 2}


def input_errors(schema: Any, value: dict[str, Any]) -> list[InputError]:
    """What is wrong with `value` (unknown fields already dropped): every broken rule,
    ordered by field and, within a field, the most telling first (`_PRIORITY`)."""
    validator = _validator_for(json.dumps(schema, sort_keys=True))
    found: list[InputError] = []
    for error in validator.iter_errors(value):
        path = tuple(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            required = error.validator_value if isinstance(error.validator_value, list) else []
            found += [
                InputError((*path, str(name)), None)
                for name in required
                if name not in error.instance
            ]
        else:
            found.append(InputError(path, error))

    def order(item: InputError) -> tuple[list[str], int]:
        rank = -1 if item.error is None else _PRIORITY.get(str(item.error.validator), 9)
        return [str(part) for part in item.path], rank

    return sorted(found, key=order)


def cog_message(error: InputError) -> str:
    """Worded as Cog's own 422s are (jsonschema's messages)."""
    if error.error is None:
        return "This field is required."
    return _message(error.error)


def _message(error: ValidationError) -> str:
    if error.validator == "anyOf" and error.context:
        # "x is not valid under any of the given schemas" hides the useful inner message.
        inner = [
            e
            for e in error.context
            if e.validator != "type" or "null" not in str(e.validator_value)
        ]
        branches = {e.relative_schema_path[0] for e in inner if e.relative_schema_path}
        if len(branches) == 1:
            return _message(inner[0])  # a nullable field: what is wrong with the value
        types = [e.validator_value for e in inner if e.validator == "type"]
        if inner and len(types) == len(inner):
            return f"{error.instance!r} is not of type {' or '.join(map(repr, types))}"
    if error.validator == "format":
        return FILE_MESSAGE
    return str(error.message)


def validate_input(schema: dict[str, Any], value: Any) -> dict[str, Any]:
    """The input with unknown fields removed, or InvalidInput naming every bad field."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InvalidInput(
            {"input": ["Must be a JSON object of input names to values."]},
            title="Input validation failed",
        )
    known = input_properties(schema)
    cleaned = {key: item for key, item in value.items() if key in known}
    errors: dict[str, list[str]] = {}
    for problem in input_errors(schema, cleaned):
        # One message per field, as Cog answers: the most telling one.
        errors.setdefault(problem.field or "input", [cog_message(problem)])
    if errors:
        raise InvalidInput(errors, title="Input validation failed", prefix="input.")
    return cleaned
