"""What goes in and comes out of a model, derived from its Cog schema."""

from __future__ import annotations

from typing import Any

import pytest

from catalog import modality
from catalog.modality import derive, kinds_of, media_kind
from tests.factories import cog_schema


@pytest.mark.parametrize(
    ("schema", "hint", "label"),
    [
        ("hello", "", "text → text"),
        ("sdxl", "Text to image with SDXL", "image, text → image"),
        ("llm-stream", "", "text → text stream"),
        ("whisper", "", "audio, text → JSON"),
        ("video", "Slow motion video", "video → video"),
        ("progressive", "", "text → file stream"),
        ("tts", "Text to speech", "text → audio"),
    ],
)
def test_it_labels_real_cog_schemas(schema: str, hint: str, label: str) -> None:
    assert derive(cog_schema(schema), hint=hint).label == label


def test_numbers_are_settings_unless_they_are_all_there_is() -> None:
    schema = cog_schema("hello")
    assert "number" not in derive(schema).inputs
    assert "number" in derive(schema).all_inputs
    props = schema["components"]["schemas"]["Input"]["properties"]
    del props["text"], props["style"]
    assert derive(schema).inputs == ("number",)


def test_every_input_kind_is_kept_for_filtering() -> None:
    found = derive(cog_schema("constraints"))
    assert found.all_inputs == {"text", "number", "list", "image", "file", "JSON"}
    assert found.all_outputs == {"JSON"}


@pytest.mark.parametrize(
    ("schema", "kinds"),
    [
        ({"type": "string"}, ("text",)),
        ({"type": "integer"}, ("number",)),
        ({"type": "number"}, ("number",)),
        ({"type": "boolean"}, ()),
        ({"type": "string", "format": "password", "x-cog-secret": True}, ()),
        ({"type": "string", "enum": ["a", "b"]}, ()),
        ({"type": "object"}, ("JSON",)),
        ({"type": "object", "properties": {"a": {"type": "string"}}}, ("JSON",)),
        ({"type": "array", "items": {"type": "integer"}}, ("list",)),
        ({"type": "array", "items": {"type": "string", "format": "uri"}}, ("file", "list")),
        (
            {"type": "array", "items": {"type": "string"}, "x-cog-array-type": "iterator",
             "x-cog-array-display": "concatenate"},
            ("stream", "text"),
        ),
        (
            {"type": "array", "items": {"type": "string", "format": "uri"},
             "x-cog-array-type": "iterator"},
            ("stream", "file"),
        ),
        ({"anyOf": [{"type": "null"}, {"type": "integer"}]}, ("number",)),
    ],
)  # fmt: skip
def test_kinds_of_each_schema_shape(schema: dict[str, Any], kinds: tuple[str, ...]) -> None:
    assert kinds_of(None, schema) == kinds


@pytest.mark.parametrize(
    ("hints", "kind"),
    [
        (("image",), "image"),
        (("input_img",), "image"),
        (("mask",), "image"),
        (("", "Photo of a face"), "image"),
        (("audio_file",), "audio"),
        (("", "", "Speech to text with Whisper"), "audio"),
        (("input_video",), "video"),
        (("weights",), "file"),
        (("audio/*",), "audio"),
        (("",), "file"),
    ],
)
def test_media_is_told_apart_by_name_description_and_hints(
    hints: tuple[str, ...], kind: str
) -> None:
    assert media_kind(*hints) == kind


def test_the_first_hint_that_names_a_medium_wins() -> None:
    assert media_kind("video", "an image of") == "video"
    assert media_kind("source", "an image of", "speech") == "image"


def test_a_uri_property_name_beats_the_model_description() -> None:
    schema = cog_schema("whisper")
    assert kinds_of(schema, schema["components"]["schemas"]["Input"]["properties"]["audio"],
                    name="audio", hint="An image model") == ("audio",)  # fmt: skip


def test_a_missing_schema_has_no_modality() -> None:
    assert derive(None).label == ""
    assert modality.for_version(None, None).label == ""


def test_modality_is_cached_per_version_for_good() -> None:
    first = modality.for_version("v1", cog_schema("hello"))
    # A version is immutable, so a second call never looks at the schema again.
    assert modality.for_version("v1", None) == first
