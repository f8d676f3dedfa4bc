"""Prediction input validation against a version's Cog schema (replicate-api.md §4.1)."""

from __future__ import annotations

from typing import Any

import pytest

from registry.errors import InvalidInput
from registry.inputs import input_properties, validate_input
from tests.factories import cog_schema

# The shapes `cog build` emits for each kind of input (see replicate-api.md §4.1).
SCHEMA: dict[str, Any] = {
    "openapi": "3.0.2",
    "info": {"title": "Cog", "version": "0.23.1"},
    "paths": {},
    "components": {
        "schemas": {
            "Input": {
                "title": "Input",
                "type": "object",
                "properties": {
                    "prompt": {
                        "title": "Prompt",
                        "type": "string",
                        "minLength": 2,
                        "maxLength": 10,
                        "pattern": "^[a-z]",
                        "x-order": 0,
                    },
                    "num_outputs": {
                        "title": "Num Outputs",
                        "type": "integer",
                        "default": 1,
                        "minimum": 1,
                        "maximum": 4,
                        "x-order": 1,
                    },
                    "guidance": {
                        "title": "Guidance",
                        "type": "number",
                        "default": 7.5,
                        "minimum": 0,
                        "maximum": 20.5,
                        "x-order": 2,
                    },
                    "safe": {"title": "Safe", "type": "boolean", "default": True, "x-order": 3},
                    "image": {"title": "Image", "type": "string", "format": "uri", "x-order": 4},
                    "mask": {
                        "title": "Mask",
                        "type": "string",
                        "format": "uri",
                        "nullable": True,
                        "x-order": 5,
                    },
                    "scheduler": {
                        "allOf": [{"$ref": "#/components/schemas/scheduler"}],
                        "default": "DDIM",
                        "x-order": 6,
                    },
                    "steps": {
                        "allOf": [{"$ref": "#/components/schemas/steps"}],
                        "default": 20,
                        "x-order": 7,
                    },
                    "seed": {"title": "Seed", "type": "integer", "nullable": True, "x-order": 8},
                    "tags": {
                        "title": "Tags",
                        "type": "array",
                        "items": {"type": "string"},
                        "x-order": 9,
                    },
                    "images": {
                        "title": "Images",
                        "type": "array",
                        "items": {"type": "string", "format": "uri"},
                        "x-order": 10,
                    },
                    "options": {"title": "Options", "type": "object", "x-order": 11},
                    "api_key": {
                        "title": "Api Key",
                        "type": "string",
                        "format": "password",
                        "writeOnly": True,
                        "x-cog-secret": True,
                        "x-order": 12,
                    },
                    "size": {
                        "title": "Size",
                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                        "nullable": True,
                        "x-order": 13,
                    },
                },
                "required": ["prompt", "image"],
            },
            "Output": {"title": "Output", "type": "string"},
            "scheduler": {
                "title": "scheduler",
                "description": "An enumeration.",
                "enum": ["DDIM", "K_EULER"],
                "type": "string",
            },
            "steps": {
                "title": "steps",
                "description": "An enumeration.",
                "enum": [20, 50],
                "type": "integer",
            },
        }
    },
}
VALID = {"prompt": "a cat", "image": "https://example.com/cat.png"}


def errors(value: Any, schema: dict[str, Any] = SCHEMA) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as error:
        validate_input(schema, value)
    assert error.value.title == "Input validation failed"
    return error.value.fields


def test_a_valid_input_comes_back_unchanged() -> None:
    value = {
        **VALID,
        "num_outputs": 4,
        "guidance": 0,
        "safe": False,
        "mask": None,
        "scheduler": "K_EULER",
        "steps": 50,
        "seed": None,
        "tags": ["x", "y"],
        "images": ["data:image/png;base64,iVBORw0KGgo=", "http://example.com/b.png"],
        "options": {"anything": [1, 2]},
        "api_key": "s3cret",
        "size": "large",
    }
    assert validate_input(SCHEMA, value) == value


def test_unknown_fields_are_dropped_as_cog_does() -> None:
    assert validate_input(SCHEMA, {**VALID, "temperature": 0.7, "Prompt": "x"}) == VALID


def test_no_input_is_an_empty_one() -> None:
    assert errors(None) == {
        "input.prompt": ["This field is required."],
        "input.image": ["This field is required."],
    }


def test_every_missing_required_field_is_named() -> None:
    assert set(errors({"num_outputs": 2})) == {"input.prompt", "input.image"}


@pytest.mark.parametrize("value", [[VALID], "a cat", 3, True])
def test_input_that_is_not_an_object_is_refused(value: Any) -> None:
    assert errors(value) == {"input": ["Must be a JSON object of input names to values."]}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("prompt", 3, "3 is not of type 'string'"),
        ("prompt", "a", "'a' is too short"),
        ("prompt", "abcdefghijk", "'abcdefghijk' is too long"),
        ("prompt", "Abc", "'Abc' does not match '^[a-z]'"),
        ("num_outputs", 0, "0 is less than the minimum of 1"),
        ("num_outputs", 5, "5 is greater than the maximum of 4"),
        ("num_outputs", 1.5, "1.5 is not of type 'integer'"),
        ("num_outputs", "2", "'2' is not of type 'integer'"),
        ("num_outputs", True, "True is not of type 'integer'"),
        ("num_outputs", None, "None is not of type 'integer'"),
        ("guidance", -0.1, "-0.1 is less than the minimum of 0"),
        ("guidance", 20.6, "20.6 is greater than the maximum of 20.5"),
        ("guidance", "7", "'7' is not of type 'number'"),
        ("safe", "yes", "'yes' is not of type 'boolean'"),
        ("safe", 1, "1 is not of type 'boolean'"),
        ("scheduler", "PNDM", "'PNDM' is not one of ['DDIM', 'K_EULER']"),
        ("steps", 30, "30 is not one of [20, 50]"),
        ("steps", "20", "'20' is not one of [20, 50]"),
        ("seed", "42", "'42' is not of type 'integer'"),
        ("tags", "x", "'x' is not of type 'array'"),
        ("tags.1", ["x", 2], "2 is not of type 'string'"),
        ("options", [1], "[1] is not of type 'object'"),
        ("api_key", 123, "123 is not of type 'string'"),
        ("size", 1.5, "1.5 is not of type 'integer' or 'string'"),
        ("size", [1], "[1] is not of type 'integer' or 'string'"),
    ],
)
def test_each_type_and_constraint_is_enforced(field: str, value: Any, message: str) -> None:
    name = field.split(".")[0]
    value_in = {**VALID, name: value}
    assert errors(value_in) == {f"input.{field}": [message]}


def test_nullable_inputs_take_null_and_others_do_not() -> None:
    assert validate_input(SCHEMA, {**VALID, "mask": None, "seed": None, "size": None})
    assert errors({**VALID, "image": None}) == {"input.image": ["None is not of type 'string'"]}
    # A null-able field still checks a non-null value, with the inner message.
    assert errors({**VALID, "seed": 1.5}) == {"input.seed": ["1.5 is not of type 'integer'"]}


FILE_MESSAGE = "Must be an http(s):// URL or a data: URI of a file."


@pytest.mark.parametrize(
    "url", ["http://example.com/a.png", "https://example.com/a.png", "data:text/plain,hello"]
)
def test_file_inputs_accept_urls_cog_can_fetch(url: str) -> None:
    assert validate_input(SCHEMA, {**VALID, "image": url, "mask": url, "images": [url]})


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/a.png", "/tmp/a.png", "s3://bucket/a.png", ""],
)
def test_file_inputs_refuse_anything_else(url: str) -> None:
    assert errors({**VALID, "image": url}) == {"input.image": [FILE_MESSAGE]}
    assert errors({**VALID, "mask": url}) == {"input.mask": [FILE_MESSAGE]}
    assert errors({**VALID, "images": ["https://example.com/ok.png", url]}) == {
        "input.images.1": [FILE_MESSAGE]
    }


def test_each_bad_field_gets_exactly_one_message() -> None:
    fields = errors(
        {"prompt": "A", "num_outputs": 9, "scheduler": "x", "images": ["ftp://x"], "extra": 1}
    )
    assert fields == {
        "input.prompt": ["'A' is too short"],  # also fails the pattern: one message still
        "input.num_outputs": ["9 is greater than the maximum of 4"],
        "input.scheduler": ["'x' is not one of ['DDIM', 'K_EULER']"],
        "input.images.0": [FILE_MESSAGE],
        "input.image": ["This field is required."],
    }


def test_the_problem_detail_lists_every_field() -> None:
    with pytest.raises(InvalidInput) as error:
        validate_input(SCHEMA, {"prompt": "ok", "num_outputs": 0})
    assert error.value.detail.splitlines() == [
        "- input.image: This field is required.",
        "- input.num_outputs: 0 is less than the minimum of 1",
    ]


def test_an_input_called_nullable_is_validated_like_any_other() -> None:
    schema = {
        "components": {
            "schemas": {
                "Input": {
                    "type": "object",
                    "properties": {
                        "nullable": {"title": "Nullable", "type": "boolean", "x-order": 0},
                        "count": {"title": "Count", "type": "integer", "x-order": 1},
                    },
                    "required": ["count"],
                }
            }
        }
    }
    assert errors({"nullable": "no", "count": "1"}, schema) == {
        "input.nullable": ["'no' is not of type 'boolean'"],
        "input.count": ["'1' is not of type 'integer'"],
    }


def test_a_real_cog_document_validates() -> None:
    hello = cog_schema("hello")
    assert list(input_properties(hello)) == ["text", "repeat", "style"]
    assert validate_input(hello, {"text": "Ada", "style": "shout"}) == {
        "text": "Ada",
        "style": "shout",
    }
    assert errors({"repeat": 9, "style": "loud"}, hello) == {
        "input.text": ["This field is required."],
        "input.repeat": ["9 is greater than the maximum of 5"],
        "input.style": ["'loud' is not one of ['plain', 'shout']"],
    }


def test_a_schema_without_input_accepts_nothing_but_an_object() -> None:
    assert input_properties({"components": {}}) == {}
    assert validate_input({"components": {"schemas": {"Input": {"type": "object"}}}}, {"a": 1}) == (
        {}
    )
