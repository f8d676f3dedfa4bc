from __future__ import annotations

from typing import Any

import pytest

from registry.signatures import KINDS, Signature, derive_signature, kinds_mask, ordered
from tests.factories import cog_schema


def openapi(
    properties: dict[str, Any] | None = None,
    output: dict[str, Any] | None = None,
    **components: Any,
) -> dict[str, Any]:
    """A Cog OpenAPI document shaped the way `cog` writes it."""
    schemas: dict[str, Any] = {
        "Input": {
            "title": "Input",
            "type": "object",
            "properties": properties or {},
        },
        "Status": {"title": "Status", "enum": ["starting", "succeeded"], "type": "string"},
        **components,
    }
    if output is not None:
        schemas["Output"] = {"title": "Output", **output}
    return {"openapi": "3.0.2", "info": {"title": "Cog"}, "components": {"schemas": schemas}}


URI = {"type": "string", "format": "uri"}


def test_the_hello_fixture_takes_text_a_number_and_a_choice_and_returns_text() -> None:
    assert derive_signature(cog_schema("hello")) == Signature(
        inputs=("text", "number"), outputs=("text",)
    )


def test_an_enum_behind_allof_and_ref_takes_the_type_of_the_enum() -> None:
    schema = openapi(
        {
            "scheduler": {"allOf": [{"$ref": "#/components/schemas/scheduler"}], "x-order": 0},
            "steps": {"allOf": [{"$ref": "#/components/schemas/steps"}], "x-order": 1},
        },
        {"type": "string"},
        scheduler={"title": "scheduler", "enum": ["DDIM", "K_EULER"], "type": "string"},
        steps={"title": "steps", "enum": [20, 50], "type": "integer"},
    )
    assert derive_signature(schema).inputs == ("text", "number")


def test_an_enum_without_a_type_is_text_or_number_by_its_values() -> None:
    schema = openapi(
        {
            "mode": {"$ref": "#/components/schemas/mode"},
            "size": {"$ref": "#/components/schemas/size"},
        },
        {"type": "string"},
        mode={"enum": ["fast", "slow"]},
        size={"enum": [512, 768]},
    )
    assert derive_signature(schema).inputs == ("text", "number")


@pytest.mark.parametrize(
    ("name", "prop", "kind"),
    [
        ("image", {"description": "Input image"}, "image"),
        ("img", {}, "image"),
        ("init_image", {"description": "Initial image for img2img"}, "image"),
        ("mask", {"description": "Black and white mask for inpainting"}, "image"),
        ("inputPhoto", {}, "image"),
        ("input_file", {"description": "A photo of a face"}, "image"),
        ("audio", {"description": "Audio file"}, "audio"),
        ("speaker_wav", {"description": "Reference voice"}, "audio"),
        ("input", {"description": "Speech recording to transcribe"}, "audio"),
        ("melody", {}, "audio"),
        ("video", {"description": "Input video"}, "video"),
        ("source", {"title": "Source mp4"}, "video"),
        ("weights", {"description": "A .tar of LoRA weights"}, "file"),
        ("document", {}, "file"),
    ],
)
def test_a_file_input_is_classified_by_its_name_then_its_description(
    name: str, prop: dict[str, Any], kind: str
) -> None:
    schema = openapi({name: {**URI, "title": name.title(), **prop}}, {"type": "string"})
    assert derive_signature(schema).inputs == (kind,)


def test_the_name_of_a_file_input_outweighs_its_description() -> None:
    prop = {**URI, "description": "Video frame to restore, as an image"}
    schema = openapi({"audio_track": prop}, {"type": "string"})
    assert derive_signature(schema).inputs == ("audio",)


@pytest.mark.parametrize(
    ("accept", "kind"),
    [
        ("image/*", "image"),
        ("audio/wav,audio/mpeg", "audio"),
        ([".mp4", ".mov"], "video"),
        (["image/png", "audio/wav"], "file"),  # ambiguous: fall back to the name
    ],
)
def test_x_cog_accept_decides_what_a_file_is_before_any_name(accept: Any, kind: str) -> None:
    schema = openapi({"input_file": {**URI, "x-cog-accept": accept}}, {"type": "string"})
    assert derive_signature(schema).inputs == (kind,)


def test_scalar_inputs_map_to_text_number_and_boolean() -> None:
    schema = openapi(
        {
            "prompt": {"type": "string"},
            "width": {"type": "integer", "minimum": 64},
            "guidance": {"type": "number"},
            "face_enhance": {"type": "boolean", "description": "Improve the face image"},
        },
        {"type": "string"},
    )
    assert derive_signature(schema).inputs == ("text", "number", "boolean")


def test_a_secret_input_is_not_a_kind_the_model_takes() -> None:
    schema = openapi(
        {
            "api_key": {
                "type": "string",
                "format": "password",
                "x-cog-secret": True,
                "writeOnly": True,
            },
            "image": URI,
        },
        {"type": "string"},
    )
    assert derive_signature(schema).inputs == ("image",)


def test_a_list_of_images_input_is_a_list_and_images() -> None:
    schema = openapi(
        {"images": {"type": "array", "items": URI, "description": "Photos of the subject"}},
        {"type": "string"},
    )
    assert derive_signature(schema).inputs == ("image", "list")


def test_object_and_untyped_inputs_are_json() -> None:
    schema = openapi(
        {"config": {"type": "object"}, "anything": {"title": "Anything"}}, {"type": "string"}
    )
    assert derive_signature(schema).inputs == ("json",)


def test_optional_inputs_written_with_anyof_null_take_the_non_null_branch() -> None:
    schema = openapi(
        {"seed": {"anyOf": [{"type": "integer"}, {"type": "null"}]}, "audio": {"anyOf": [URI]}},
        {"type": "string"},
    )
    assert derive_signature(schema).inputs == ("number", "audio")


def test_a_type_list_with_null_takes_the_non_null_type() -> None:
    schema = openapi({"prompt": {"type": ["string", "null"]}}, {"type": "string"})
    assert derive_signature(schema).inputs == ("text",)


def test_a_text_to_image_model_returns_a_list_of_images_known_from_its_description() -> None:
    schema = openapi({"prompt": {"type": "string"}}, {"type": "array", "items": URI})
    signature = derive_signature(schema, context="A latent text-to-image diffusion model")
    assert signature == Signature(inputs=("text",), outputs=("image", "list"))


@pytest.mark.parametrize(
    ("context", "kind"),
    [
        ("Real-ESRGAN upscaler for photos", "image"),
        ("text to speech with emotions", "audio"),
        ("Generate music from a prompt", "audio"),
        ("Zeroscope: text-to-video", "video"),
        ("convert a picture to a video clip", "video"),
        ("A model that does something", "file"),
    ],
)
def test_an_unnamed_output_file_is_guessed_from_what_the_model_says_it_does(
    context: str, kind: str
) -> None:
    schema = openapi({"prompt": {"type": "string"}}, URI)
    assert derive_signature(schema, context=context).outputs == (kind,)


def test_the_output_title_or_description_beats_the_model_context() -> None:
    schema = openapi({}, {**URI, "description": "The generated audio"})
    assert derive_signature(schema, context="image editing model").outputs == ("audio",)


def test_a_streamed_llm_output_is_text_and_a_stream() -> None:
    output = {
        "type": "array",
        "items": {"type": "string"},
        "x-cog-array-type": "iterator",
        "x-cog-array-display": "concatenate",
    }
    assert derive_signature(openapi({}, output)).outputs == ("text", "stream")


def test_an_iterator_of_images_is_a_stream_and_a_list_of_images() -> None:
    output = {"type": "array", "items": URI, "x-cog-array-type": "iterator"}
    signature = derive_signature(openapi({}, output), context="progressive image generation")
    assert signature.outputs == ("image", "list", "stream")


def test_a_structured_output_is_json_and_what_its_fields_carry() -> None:
    whisper = {
        "type": "object",
        "properties": {
            "transcription": {"type": "string"},
            "segments": {"type": "array", "items": {"type": "object"}},
            "detected_language": {"type": "string"},
        },
    }
    assert derive_signature(openapi({}, whisper)).outputs == ("text", "json", "list")


def test_an_output_that_refers_to_a_named_component_is_resolved() -> None:
    schema = openapi(
        {},
        {"$ref": "#/components/schemas/SeparatedStems"},
        SeparatedStems={
            "type": "object",
            "properties": {"vocals": URI, "drums": {**URI, "description": "Drums audio"}},
        },
    )
    assert derive_signature(schema).outputs == ("audio", "json")


def test_an_untyped_output_is_json() -> None:
    assert derive_signature(openapi({}, {})).outputs == ("json",)


@pytest.mark.parametrize(
    "schema",
    [
        None,
        "not a schema",
        {},
        {"components": None},
        {"components": {"schemas": {"Input": "oops", "Output": 3}}},
        {"components": {"schemas": {"Input": {"properties": {"a": "b", "c": {"type": 7}}}}}},
    ],
)
def test_a_malformed_schema_never_raises(schema: Any) -> None:
    signature = derive_signature(schema)
    assert set(signature.inputs) <= {"json"}
    assert set(signature.outputs) <= {"json"}


def test_a_reference_cycle_ends() -> None:
    schema = openapi(
        {"node": {"$ref": "#/components/schemas/Loop"}},
        {"$ref": "#/components/schemas/Loop"},
        Loop={"$ref": "#/components/schemas/Loop"},
    )
    derive_signature(schema)  # returns


def test_kinds_come_back_in_one_fixed_order() -> None:
    assert ordered({"stream", "text", "image", "list"}) == ("text", "image", "list", "stream")


def test_kinds_are_bits_in_the_order_of_kinds() -> None:
    assert kinds_mask([]) == 0
    assert kinds_mask(["text", "image", "text"]) == 0b1001
    assert kinds_mask(KINDS) == 2 ** len(KINDS) - 1
    assert kinds_mask(["hologram"]) == 0
