"""What goes in and comes out of a model, as the pages say it. The kinds themselves come
from registry.signatures (tested there); these tests are about the labels."""

from __future__ import annotations

import pytest

from catalog import modality
from catalog.modality import derive, from_kinds, media_kind
from registry.models import MLModel
from tests.factories import ModelFactory, VersionFactory, cog_schema

pytestmark = pytest.mark.django_db


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


def test_numbers_and_switches_are_settings_unless_they_are_all_there_is() -> None:
    assert from_kinds(("text", "number", "boolean"), ("text",)).label == "text → text"
    assert from_kinds(("number", "boolean"), ("json",)).label == "number, boolean → JSON"


def test_at_most_three_inputs_are_named_media_first() -> None:
    found = derive(cog_schema("constraints"))
    assert found.inputs == ("image", "file", "text")
    assert found.all_inputs >= {"image", "file", "text", "json", "list", "number"}


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
        ((".mp4",), "video"),
        (("",), "file"),
    ],
)
def test_media_is_told_apart_by_name_description_and_accept(
    hints: tuple[str, ...], kind: str
) -> None:
    assert media_kind(*hints) == kind


def test_the_first_hint_that_names_a_medium_wins() -> None:
    assert media_kind("video", "an image of") == "video"
    assert media_kind("source", "an image of", "speech") == "image"


def test_a_missing_schema_has_no_modality() -> None:
    assert derive(None).label == ""
    assert modality.for_version(None, None).label == ""


def test_modality_is_cached_per_version_for_good() -> None:
    first = modality.for_version("v1", cog_schema("hello"))
    # A version is immutable, so a second call never looks at the schema again.
    assert modality.for_version("v1", None) == first


def test_a_model_with_its_search_row_joined_needs_no_schema() -> None:
    spoken = ModelFactory(description="Text to speech")
    version = VersionFactory(model=spoken, openapi_schema=cog_schema("tts"))
    model = MLModel.objects.select_related("search_document", "latest_version").get(
        pk=version.model_id
    )
    assert modality.for_model(model).label == "text → audio"
    bare = MLModel.objects.select_related("latest_version").get(pk=version.model_id)
    assert modality.for_model(bare).label == "text → audio"
