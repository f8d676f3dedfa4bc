"""The playground form: Cog schema → fields, submitted form → JSON input, validation."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from catalog import schema_forms
from catalog.schema_forms import FormField, form_fields, input_from_form, submit, validate_input
from tests.factories import cog_schema


def fields_by_name(schema: str, **kwargs: Any) -> dict[str, FormField]:
    return {f.name: f for f in form_fields(cog_schema(schema), **kwargs)}


def form(**values: str | list[str]) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in values.items():
        if isinstance(value, list):
            data.setlist(key, value)
        else:
            data[key] = value
    return data


# Schema → fields ------------------------------------------------------------------------


def test_fields_follow_x_order_not_declaration_order() -> None:
    schema = cog_schema("hello")
    props = schema["components"]["schemas"]["Input"]["properties"]
    props["text"]["x-order"], props["style"]["x-order"] = 2, 0
    assert [f.name for f in form_fields(schema)] == ["style", "repeat", "text"]


def test_a_required_string_is_a_required_text_field_with_its_description_as_help() -> None:
    text = fields_by_name("hello")["text"]
    assert (text.widget, text.required, text.help, text.label) == (
        "text",
        True,
        "Who to greet",
        "Text",
    )


def test_prompt_like_names_and_long_descriptions_get_a_textarea() -> None:
    sdxl = fields_by_name("sdxl")
    assert sdxl["prompt"].widget == "textarea"
    assert sdxl["negative_prompt"].widget == "textarea"
    assert fields_by_name("llm-stream")["system_prompt"].widget == "textarea"
    assert fields_by_name("constraints")["slug"].widget == "text"


def test_defaults_fill_the_fields() -> None:
    sdxl = fields_by_name("sdxl")
    assert sdxl["prompt"].value == "An astronaut riding a rainbow unicorn"
    assert sdxl["width"].value == "1024"
    assert sdxl["guidance_scale"].value == "7.5"
    assert sdxl["scheduler"].value == "K_EULER"
    assert sdxl["apply_watermark"].checked is True
    assert sdxl["seed"].value == ""
    constraints = fields_by_name("constraints")
    assert constraints["sizes"].value == "64\n128"
    assert constraints["options"].value == '{\n  "a": 1\n}'


def test_a_bounded_number_is_a_slider_with_a_number_field_and_the_bounds() -> None:
    sdxl = fields_by_name("sdxl")
    outputs = sdxl["num_outputs"]
    assert (outputs.widget, outputs.minimum, outputs.maximum, outputs.step) == (
        "range",
        "1",
        "4",
        "1",
    )
    strength = sdxl["prompt_strength"]
    assert (strength.widget, strength.minimum, strength.maximum) == ("range", "0", "1")
    assert (strength.step, strength.range_step) == ("any", "0.01")
    assert sdxl["guidance_scale"].range_step == "0.1"


def test_a_number_with_one_bound_or_none_is_a_number_field() -> None:
    constraints = fields_by_name("constraints")
    assert (constraints["count"].widget, constraints["count"].minimum) == ("number", "0")
    assert constraints["count"].maximum is None
    assert (constraints["ratio"].widget, constraints["ratio"].maximum) == ("number", "2.5")
    assert constraints["ratio"].step == "any"
    seed = fields_by_name("sdxl")["seed"]
    assert (seed.widget, seed.minimum, seed.maximum, seed.step) == ("number", None, None, "1")


def test_an_enum_component_becomes_a_select_of_its_values() -> None:
    scheduler = fields_by_name("sdxl")["scheduler"]
    assert scheduler.widget == "select"
    assert ("K_EULER", "K_EULER") in scheduler.choices
    assert scheduler.label == "Scheduler"  # not the component's snake name
    assert scheduler.help == "scheduler"
    level = fields_by_name("constraints")["level"]
    assert [v for v, _ in level.choices] == ["1", "2", "3"]  # the default stands for "unset"
    assert level.value == "2"


def test_a_nullable_enum_offers_an_empty_choice_and_is_not_required() -> None:
    language = fields_by_name("whisper")["language"]
    assert language.choices[0] == ("", "—")
    assert (language.required, language.nullable) == (False, True)


def test_a_boolean_is_a_checkbox() -> None:
    flag = fields_by_name("sdxl")["apply_watermark"]
    assert (flag.widget, flag.required, flag.type_label) == ("checkbox", False, "boolean")


def test_a_uri_is_a_file_upload_that_accepts_the_hinted_media() -> None:
    sdxl = fields_by_name("sdxl")
    assert (sdxl["image"].widget, sdxl["image"].accept, sdxl["image"].multiple) == (
        "file",
        "image/*",
        False,
    )
    assert fields_by_name("whisper")["audio"].accept == "audio/*"
    assert fields_by_name("video")["video"].accept == "video/*"
    assert fields_by_name("constraints")["document"].accept == "application/pdf"


def test_an_array_of_uris_is_a_multiple_file_upload() -> None:
    photos = fields_by_name("constraints")["photos"]
    assert (photos.widget, photos.multiple, photos.type_label) == ("file", True, "files")


def test_a_secret_is_a_password_field() -> None:
    key = fields_by_name("llm-stream")["api_key"]
    assert (key.widget, key.required, key.type_label) == ("password", True, "secret")


def test_string_constraints_become_html_attributes() -> None:
    slug = fields_by_name("constraints")["slug"]
    assert (slug.minlength, slug.maxlength, slug.pattern) == (3, 20, "^[a-z-]+$")


def test_arrays_are_lines_and_objects_and_unions_are_json() -> None:
    constraints = fields_by_name("constraints")
    assert (constraints["sizes"].widget, constraints["sizes"].type_label) == (
        "lines",
        "list of integer",
    )
    assert constraints["options"].widget == "json"
    assert constraints["options"].type_label == "JSON object"
    assert (constraints["either"].widget, constraints["either"].type_label) == (
        "json",
        "string or integer",
    )


def test_deprecated_inputs_are_marked() -> None:
    assert fields_by_name("constraints")["old_flag"].deprecated is True


def test_a_nullable_input_is_never_required() -> None:
    limit = fields_by_name("constraints")["limit"]
    assert (limit.required, limit.nullable, limit.widget) == (False, True, "range")


def test_submitted_values_and_errors_refill_the_form_but_never_a_secret() -> None:
    data = form(prompt="hi", api_key="sk-123", temperature="9")
    fields = fields_by_name("llm-stream", data=data, errors={"temperature": ["Too hot."]})
    assert fields["prompt"].value == "hi"
    assert fields["api_key"].value == ""
    assert fields["temperature"].errors == ["Too hot."]
    assert fields["system_prompt"].value == ""  # submitted empty: stays empty


def test_an_example_input_fills_the_form_when_given() -> None:
    fields = fields_by_name("sdxl", initial={"prompt": "a cat", "image": "https://x/cat.png"})
    assert fields["prompt"].value == "a cat"
    assert fields["image"].url_value == "https://x/cat.png"
    assert fields["width"].value == "1024"  # the example did not set it: the default


# Form → JSON input ------------------------------------------------------------------------


def test_typed_values_are_read_and_empty_fields_left_out() -> None:
    data = form(prompt="a cat", width="768", guidance_scale="7.5", seed="", scheduler="DDIM")
    result = input_from_form(cog_schema("sdxl"), data)
    assert result.errors == {}
    assert result.input == {
        "prompt": "a cat",
        "width": 768,
        "guidance_scale": 7.5,
        "scheduler": "DDIM",
        "apply_watermark": False,
    }


def test_a_checkbox_is_true_when_checked_and_false_when_absent() -> None:
    schema = cog_schema("sdxl")
    assert input_from_form(schema, form(apply_watermark="on")).input["apply_watermark"] is True
    assert input_from_form(schema, form()).input["apply_watermark"] is False


def test_an_integer_enum_keeps_its_integer_type() -> None:
    assert input_from_form(cog_schema("constraints"), form(level="3")).input["level"] == 3


def test_arrays_read_one_item_per_line_or_json() -> None:
    schema = cog_schema("constraints")
    assert input_from_form(schema, form(sizes="1\n 2 \n\n3")).input["sizes"] == [1, 2, 3]
    assert input_from_form(schema, form(sizes="[4, 5]")).input["sizes"] == [4, 5]
    assert input_from_form(schema, form(words="a b\nc")).input["words"] == ["a b", "c"]


def test_objects_and_unions_read_json() -> None:
    schema = cog_schema("constraints")
    result = input_from_form(schema, form(options='{"k": [1, 2]}', either="7"))
    assert result.input["options"] == {"k": [1, 2]}
    assert result.input["either"] == 7
    assert input_from_form(schema, form(either="seven")).input["either"] == "seven"


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"count": "many"}, "count", "Enter a whole number."),
        ({"count": "1.5"}, "count", "Enter a whole number."),
        ({"ratio": "abc"}, "ratio", "Enter a number."),
        ({"ratio": "inf"}, "ratio", "Enter a finite number."),
        ({"sizes": "1\ntwo"}, "sizes", "Line 2: Enter a whole number."),
        ({"sizes": '{"a": 1}'}, "sizes", None),
        ({"options": "{nope"}, "options", "Enter valid JSON"),
        ({"photos__url": "ftp://x/y.png"}, "photos", "Enter an http(s) URL, or upload a file."),
    ],
)
def test_unreadable_values_get_a_message_for_their_field(
    values: dict[str, str], field: str, message: str | None
) -> None:
    result = input_from_form(cog_schema("constraints"), form(slug="ok", **values))
    assert field in result.errors
    assert field not in result.input
    if message:
        assert result.errors[field][0].startswith(message)


def test_a_whole_number_written_as_a_float_is_an_integer() -> None:
    assert input_from_form(cog_schema("constraints"), form(count="3.0")).input["count"] == 3


def test_an_uploaded_file_becomes_a_data_url() -> None:
    upload = SimpleUploadedFile("cat.png", b"\x89PNG...", content_type="image/png")
    files = MultiValueDict({"image": [upload]})
    result = input_from_form(cog_schema("sdxl"), form(prompt="x"), files)
    assert (
        result.input["image"] == "data:image/png;base64," + base64.b64encode(b"\x89PNG...").decode()
    )


def test_an_upload_wins_over_a_url_and_a_url_is_taken_when_no_file_is_sent() -> None:
    upload = SimpleUploadedFile("a.png", b"abc", content_type="image/png")
    schema = cog_schema("sdxl")
    with_both = input_from_form(
        schema,
        form(image__url="https://x/y.png"),
        MultiValueDict({"image": [upload]}),
        store_file=lambda f: "stored:" + f.name,
    )
    assert with_both.input["image"] == "stored:a.png"
    assert input_from_form(schema, form(image__url=" https://x/y.png ")).input["image"] == (
        "https://x/y.png"
    )


def test_file_lists_take_several_uploads_and_urls() -> None:
    uploads = [
        SimpleUploadedFile("a.png", b"a", content_type="image/png"),
        SimpleUploadedFile("b.png", b"b", content_type="image/png"),
    ]
    result = input_from_form(
        cog_schema("constraints"),
        form(photos__url="https://x/c.png\n"),
        MultiValueDict({"photos": uploads}),
        store_file=lambda f: f.name,
    )
    assert result.input["photos"] == ["a.png", "b.png", "https://x/c.png"]


def test_a_file_over_the_limit_is_refused_with_both_sizes() -> None:
    upload = SimpleUploadedFile("a.png", b"abc", content_type="image/png")
    result = input_from_form(
        cog_schema("sdxl"), form(), MultiValueDict({"image": [upload]}), max_file_bytes=2
    )
    assert result.errors["image"] == [
        "a.png is too large (3 bytes): files up to 2 bytes can be sent."
    ]


@pytest.mark.parametrize(
    ("size", "text"),
    [(1, "1 byte"), (812, "812 bytes"), (4300, "4.2 KB"), (100 * 1024**2, "100 MB")],
)
def test_sizes_read_as_people_write_them(size: int, text: str) -> None:
    assert schema_forms.size_text(size) == text


# Validation ------------------------------------------------------------------------------


def test_a_valid_input_has_no_messages() -> None:
    assert (
        validate_input(cog_schema("hello"), {"text": "Alice", "repeat": 3, "style": "shout"}) == {}
    )


def test_a_missing_required_input_is_named() -> None:
    assert validate_input(cog_schema("llm-stream"), {}) == {
        "prompt": ["This field is required."],
        "api_key": ["This field is required."],
    }


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        ({"repeat": 0}, "repeat", "Must be at least 1."),
        ({"repeat": 6}, "repeat", "Must be at most 5."),
        ({"repeat": 2.5}, "repeat", "Must be a whole number."),
        ({"style": "whisper"}, "style", "Must be one of: plain, shout."),
        ({"text": 5}, "text", "Must be text."),
    ],
)
def test_schema_violations_are_reported_per_field_in_plain_words(
    value: dict[str, Any], field: str, message: str
) -> None:
    assert validate_input(cog_schema("hello"), {"text": "x", **value}) == {field: [message]}


def test_string_length_and_pattern_are_checked() -> None:
    errors = validate_input(cog_schema("constraints"), {"slug": "AB", "count": 1})
    assert errors == {
        "slug": ["Must be at least 3 characters long.", "Must match the pattern ^[a-z-]+$."]
    }
    too_long = validate_input(cog_schema("constraints"), {"slug": "a" * 21, "count": 1})
    assert too_long == {"slug": ["Must be at most 20 characters long."]}


def test_an_integer_enum_names_its_choices_only() -> None:
    errors = validate_input(cog_schema("constraints"), {"slug": "abc", "count": 0, "level": "7"})
    assert errors == {"level": ["Must be one of: 1, 2, 3."]}


def test_list_items_are_checked_and_numbered() -> None:
    errors = validate_input(
        cog_schema("constraints"), {"slug": "abc", "count": 0, "sizes": [1, "x"]}
    )
    assert errors == {"sizes": ["Item 2: Must be a whole number."]}


def test_nullable_inputs_accept_null_and_still_check_their_bounds() -> None:
    schema = cog_schema("constraints")
    base = {"slug": "abc", "count": 0}
    assert validate_input(schema, {**base, "limit": None}) == {}
    assert validate_input(schema, {**base, "limit": 11}) == {"limit": ["Must be at most 10."]}
    whisper = cog_schema("whisper")
    assert validate_input(whisper, {"audio": "https://x/a.wav", "language": None}) == {}
    assert validate_input(whisper, {"audio": "https://x/a.wav", "language": "xx"}) == {
        "language": ["Must be one of: en, fr, de, es, ja."]
    }


def test_references_resolve_against_the_whole_document() -> None:
    schema = cog_schema("sdxl")
    assert validate_input(schema, {"scheduler": "DDIM", "refine": "no_refiner"}) == {}
    assert validate_input(schema, {"refine": "nope"}) == {
        "refine": ["Must be one of: no_refiner, expert_ensemble_refiner, base_image_refiner."]
    }


def test_openapi_boolean_exclusive_bounds_are_understood() -> None:
    schema = cog_schema("hello")
    repeat = schema["components"]["schemas"]["Input"]["properties"]["repeat"]
    repeat["exclusiveMinimum"] = True
    assert validate_input(schema, {"text": "x", "repeat": 1}) == {
        "repeat": ["Must be greater than 1."]
    }


def test_submit_reports_unreadable_values_before_schema_rules() -> None:
    result = submit(cog_schema("constraints"), form(slug="ok-slug", count="lots"))
    assert result.errors == {"count": ["Enter a whole number."]}
    assert not result.is_valid


def test_submit_gives_the_json_input_when_all_is_well() -> None:
    result = submit(cog_schema("hello"), form(text="Bob", repeat="2", style="shout"))
    assert result.is_valid
    assert result.input == {"text": "Bob", "repeat": 2, "style": "shout"}


def test_a_version_without_inputs_gives_an_empty_form_and_input() -> None:
    schema = cog_schema("hello")
    schema["components"]["schemas"]["Input"] = {
        "title": "Input",
        "type": "object",
        "properties": {},
    }
    assert form_fields(schema) == []
    assert submit(schema, form()).input == {}
    assert form_fields(None) == []


@pytest.mark.parametrize(
    "document", [None, {}, [], {"components": []}, {"components": {"schemas": 3}}]
)
def test_a_malformed_document_gives_an_empty_form_not_an_error(document: Any) -> None:
    assert form_fields(document) == []
    assert submit(document, form(x="1")).input == {}
