"""Validation of prediction inputs against a version's Cog schema, before anything runs.

The schema is OpenAPI 3.0 (Cog's `components.schemas.Input`), checked with jsonschema
after two translations: `$ref`s resolve against the whole document, and OpenAPI's
`nullable: true` becomes "or null". Unknown fields are dropped, as Cog itself does.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from registry.errors import InvalidInput

FILE_SCHEMES = ("http://", "https://", "data:")
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
    # `is True`: a *property* called "nullable" (a schema, so truthy) is not the keyword.
    if converted.get("nullable") is True:
        del converted["nullable"]
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@functools.lru_cache(maxsize=512)
def _validator_for(schema_json: str) -> Draft202012Validator:
    document = json.loads(schema_json)
    components = _openapi_to_json_schema(copy.deepcopy(document.get("components", {})))
    root = {"$ref": "#/components/schemas/Input", "components": components}
    return Draft202012Validator(root, format_checker=format_checker)


def input_properties(schema: dict[str, Any]) -> dict[str, Any]:
    input_schema = ((schema.get("components") or {}).get("schemas") or {}).get("Input") or {}
    properties = input_schema.get("properties") or {}
    return properties if isinstance(properties, dict) else {}


def _fields_of(error: ValidationError) -> list[str]:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        # One error per missing name, each carrying the whole `required` list: name them all
        # (the caller keeps one message per field).
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [str(f) for f in required if f not in error.instance]
        if missing:
            return [".".join([*path, name]) for name in missing]
    return [".".join(path) if path else "input"]


def _message(error: ValidationError) -> str:
    if error.validator == "required":
        return "This field is required."
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
        return "Must be an http(s):// URL or a data: URI of a file."
    return error.message


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
    validator = _validator_for(json.dumps(schema, sort_keys=True))
    errors: dict[str, list[str]] = {}
    for error in sorted(validator.iter_errors(cleaned), key=lambda e: list(e.absolute_path)):
        for field in _fields_of(error):
            errors.setdefault(field, [_message(error)])  # one message per field, as Cog does
    if errors:
        raise InvalidInput(errors, title="Input validation failed", prefix="input.")
    return cleaned
