from __future__ import annotations

from typing import Any

import pytest
from django.db.models import QuerySet

from registry import backends
from registry.search.service import ordered_models, search_collections, search_models
from tests.factories import CollectionFactory, add_to_collection
from tests.registry.search.helpers import MakeModel, names

pytestmark = pytest.mark.django_db


def test_the_backends_search_method_still_answers_a_queryset_best_first(
    make_model: MakeModel,
) -> None:
    make_model("a/whisper-notes", "Notes about whisper", runs=10)
    make_model("openai/whisper", "Speech recognition", runs=10**6)
    make_model("b/secret-whisper", visibility="private")
    models = backends.search_backend().search("whisper", user=None, limit=5)
    assert isinstance(models, QuerySet)
    assert [m.full_name for m in models] == ["openai/whisper", "a/whisper-notes"]


def test_the_result_says_what_was_searched_and_how(make_model: MakeModel) -> None:
    make_model("openai/whisper", "Speech recognition", signature="audio-to-text")
    result = search_models(user=None, text="speech input:audio", sort="run_count", limit=5)
    assert (result.text, result.filters, result.sort) == (
        "speech",
        {"input": ("audio",)},
        "run_count",
    )
    assert (result.limit, result.offset, result.backend, result.fallback_reason) == (
        5,
        0,
        "database",
        "",
    )
    assert names(result) == ["openai/whisper"]
    assert result.models[0].search_document.input_kinds == ["audio"]


def test_limits_and_offsets_are_kept_in_range(make_model: MakeModel) -> None:
    make_model("a/one")
    result = search_models(user=None, limit=1000, offset=-5)
    assert (result.limit, result.offset) == (100, 0)


def test_ordered_models_keeps_the_order_and_drops_what_the_viewer_may_not_see(
    make_model: MakeModel, user: Any
) -> None:
    first = make_model("a/first")
    hidden = make_model("a/hidden", visibility="private")
    last = make_model("b/last")
    ids = [last.pk, hidden.pk, first.pk]
    assert [m.pk for m in ordered_models(ids, user=None)] == [last.pk, first.pk]


def test_collections_are_found_by_their_words_with_visible_models_only(
    make_model: MakeModel,
) -> None:
    collection = CollectionFactory(slug="speech-tools", name="Speech tools")
    add_to_collection(
        collection, make_model("openai/whisper"), make_model("acme/secret", visibility="private")
    )
    CollectionFactory(slug="image-tools", name="Image tools")
    [(found, members)] = search_collections(text="speech", user=None)
    assert found == collection
    assert members == ["openai/whisper"]
    assert search_collections(text="", user=None) == []
