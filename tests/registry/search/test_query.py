from __future__ import annotations

import pytest

from registry.errors import InvalidInput
from registry.search.query import exact_full_name, parse_query, tokens, validate_sort


def test_filters_written_in_the_text_are_taken_out_of_the_words() -> None:
    parsed = parse_query("speech to text input:audio output:text owner:openai")
    assert parsed.text == "speech to text"
    assert parsed.filters == {"input": ("audio",), "output": ("text",), "owner": ("openai",)}


def test_values_of_one_facet_accumulate_from_repeats_commas_and_parameters() -> None:
    parsed = parse_query("tag:llm,chat tag:Code", {"tag": ["vision", "llm"]})
    assert parsed.filters == {"tag": ("vision", "llm", "chat", "code")}


def test_a_colon_word_that_is_not_a_facet_stays_in_the_text() -> None:
    parsed = parse_query("https://example.com model:x input:image")
    assert parsed.text == "https://example.com model:x"
    assert parsed.filters == {"input": ("image",)}


def test_an_unknown_kind_is_rejected_naming_the_facet_and_the_kinds() -> None:
    with pytest.raises(InvalidInput) as error:
        parse_query("input:picture")
    assert "input" in error.value.fields
    assert "image" in error.value.fields["input"][0]


def test_an_unknown_facet_parameter_is_rejected() -> None:
    with pytest.raises(InvalidInput) as error:
        parse_query("", {"color": ["red"]})
    assert "color" in error.value.fields


def test_too_many_values_for_one_facet_are_rejected() -> None:
    with pytest.raises(InvalidInput):
        parse_query("", {"tag": [f"t{i}" for i in range(21)]})


def test_a_very_long_query_is_cut_not_refused() -> None:
    assert len(parse_query("a" * 5000).text) == 500


def test_tokens_are_lowercase_letters_and_digits() -> None:
    assert tokens("Stable-Diffusion XL 1.0, (img2img)!") == [
        "stable",
        "diffusion",
        "xl",
        "1",
        "0",
        "img2img",
    ]


def test_a_query_that_is_one_owner_slash_name_is_recognised() -> None:
    assert exact_full_name(" Stability-AI/SDXL ") == "stability-ai/sdxl"
    assert exact_full_name("stability-ai/sdxl turbo") is None
    assert exact_full_name("sdxl") is None


def test_unknown_sorts_are_rejected() -> None:
    assert validate_sort("trending") == "trending"
    with pytest.raises(InvalidInput):
        validate_sort("stars")
