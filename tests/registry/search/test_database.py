"""The database backend, through `search_models`, on the suite's database (PostgreSQL in
CI). SQLite runs the same kind of checks in test_sqlite.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from registry import search
from registry.errors import InvalidInput
from registry.search.service import search_models
from tests.factories import MembershipFactory, UserFactory
from tests.registry.search.helpers import MakeModel, names, on_postgres

pytestmark = pytest.mark.django_db


def test_private_models_are_found_only_by_their_owners_members(make_model: MakeModel) -> None:
    secret = make_model("acme/secret-whisper", "Whisper, private", visibility="private")
    make_model("openai/whisper", "Speech recognition")
    member = MembershipFactory(organization=secret.owner).user
    assert names(search_models(user=None, text="whisper")) == ["openai/whisper"]
    stranger = UserFactory()
    assert names(search_models(user=stranger, text="whisper")) == ["openai/whisper"]
    assert sorted(names(search_models(user=member, text="whisper"))) == [
        "acme/secret-whisper",
        "openai/whisper",
    ]


def test_facet_counts_never_count_models_the_viewer_may_not_see(make_model: MakeModel) -> None:
    make_model("acme/hidden", "Transcribe", tags=["audio"], visibility="private")
    make_model("openai/whisper", "Transcribe", tags=["audio"])
    result = search_models(user=None, text="transcribe")
    assert result.total == 1
    assert [(v.value, v.count) for v in result.facets["tag"]] == [("audio", 1)]
    assert [v.value for v in result.facets["owner"]] == ["openai"]


def test_filters_combine_with_and_across_facets_and_or_within_one(make_model: MakeModel) -> None:
    make_model("a/chat", tags=["llm"], signature="text-to-text")
    make_model("a/caption", tags=["vision"], signature="image-to-text")
    make_model("b/listen", tags=["audio"], signature="audio-to-text")
    make_model("b/paint", tags=["vision"], signature="text-to-image")
    both = search_models(user=None, filters={"tag": ["vision", "audio"]})
    assert sorted(names(both)) == ["a/caption", "b/listen", "b/paint"]
    narrowed = search_models(user=None, filters={"tag": ["vision", "audio"], "owner": ["b"]})
    assert sorted(names(narrowed)) == ["b/listen", "b/paint"]


def test_signature_filters_work_in_the_text_and_as_parameters(make_model: MakeModel) -> None:
    make_model("a/caption", "Describe images", signature="image-to-text")
    make_model("a/paint", "Draw images", signature="text-to-image")
    make_model("a/listen", "Transcribe audio", signature="audio-to-text")
    assert names(search_models(user=None, text="input:image output:text")) == ["a/caption"]
    assert names(search_models(user=None, text="images", filters={"output": ["image"]})) == [
        "a/paint"
    ]
    takes = search_models(user=None, text="input:image,audio")
    assert sorted(names(takes)) == ["a/caption", "a/listen"]


def test_facets_of_a_filtered_facet_still_count_its_other_values(make_model: MakeModel) -> None:
    make_model("a/one", tags=["vision"])
    make_model("a/two", tags=["vision"])
    make_model("b/three", tags=["audio"])
    result = search_models(user=None, filters={"tag": ["vision"]})
    assert result.total == 2
    # Choosing "audio" as well would add one model: the tag facet says so.
    assert {(v.value, v.count) for v in result.facets["tag"]} == {("vision", 2), ("audio", 1)}
    # Other facets count only what the filter leaves.
    assert [(v.value, v.count) for v in result.facets["owner"]] == [("a", 2)]


def test_facets_cover_owner_tag_collection_hardware_and_kinds(make_model: MakeModel) -> None:
    from tests.factories import CollectionFactory, add_to_collection

    model = make_model("a/caption", tags=["vision"], signature="image-to-text", hardware="gpu-t4")
    add_to_collection(CollectionFactory(slug="image-tools"), model)
    search.index_model(model.pk)
    facets = search_models(user=None).facets
    assert {f: [(v.value, v.count) for v in values] for f, values in facets.items()} == {
        "owner": [("a", 1)],
        "tag": [("vision", 1)],
        "collection": [("image-tools", 1)],
        "hardware": [("gpu-t4", 1)],
        "input": [("image", 1)],
        "output": [("text", 1)],
    }


def test_an_exact_owner_slash_name_comes_first(make_model: MakeModel) -> None:
    make_model("fans/sdxl-pixar", "SDXL fine-tuned on Pixar stills, based on sdxl", runs=10**7)
    make_model("stability-ai/sdxl", "A text-to-image model", runs=10)
    assert names(search_models(user=None, text="stability-ai/sdxl"))[0] == "stability-ai/sdxl"


def test_an_exact_name_beats_a_more_popular_model_mentioning_the_word(
    make_model: MakeModel,
) -> None:
    make_model("fans/llama-chat", "A chat model like whisper but for text", runs=10**6)
    make_model("openai/whisper", "Speech recognition", runs=1000)
    assert names(search_models(user=None, text="whisper"))[0] == "openai/whisper"


def test_popularity_orders_equally_relevant_models(make_model: MakeModel) -> None:
    make_model("a/upscaler-one", "Upscale images", runs=10)
    make_model("b/upscaler-two", "Upscale images", runs=10**6)
    assert names(search_models(user=None, text="upscale images")) == [
        "b/upscaler-two",
        "a/upscaler-one",
    ]


def test_the_last_word_matches_as_a_prefix(make_model: MakeModel) -> None:
    make_model("openai/whisper", "Speech recognition")
    assert names(search_models(user=None, text="whisp")) == ["openai/whisper"]


def test_words_in_schema_fields_and_readme_are_found_but_rank_below_names(
    make_model: MakeModel,
) -> None:
    make_model("a/notes", "Note taking", readme="Works well with podcasts.")
    make_model("b/listen", signature="audio-to-text")
    make_model("c/podcasts", "Podcast search")
    assert names(search_models(user=None, text="transcribe")) == ["b/listen"]
    assert names(search_models(user=None, text="podcasts")) == ["c/podcasts", "a/notes"]


def test_when_no_model_has_every_word_models_with_some_are_found(make_model: MakeModel) -> None:
    make_model("openai/whisper", "Speech recognition")
    result = search_models(user=None, text="whisper zebra")
    assert names(result) == ["openai/whisper"]


@pytest.mark.skipif(not on_postgres(), reason="trigram corrections need PostgreSQL")
def test_misspelled_words_are_corrected_from_the_catalog_vocabulary(make_model: MakeModel) -> None:
    make_model("stability-ai/stable-diffusion", "A latent text-to-image diffusion model")
    make_model("openai/whisper", "Speech recognition")
    assert names(search_models(user=None, text="stabel difusion")) == [
        "stability-ai/stable-diffusion"
    ]
    assert names(search_models(user=None, text="wisper")) == ["openai/whisper"]


def test_an_empty_query_lists_everything_visible_by_quality(make_model: MakeModel) -> None:
    make_model("a/quiet", runs=1)
    make_model("b/busy", runs=10**6)
    make_model("c/private", runs=10**8, visibility="private")
    result = search_models(user=None)
    assert names(result) == ["b/busy", "a/quiet"]
    assert result.total == 2


def test_trending_sorts_by_runs_in_the_last_seven_days(make_model: MakeModel) -> None:
    old_favourite = make_model("a/old-favourite", runs=10**6)
    rising = make_model("b/rising", runs=5)
    for _ in range(3):
        search.record_run(rising.pk)
    search.record_run(old_favourite.pk, when=timezone.now() - timedelta(days=8))
    assert names(search_models(user=None, sort="trending")) == ["b/rising", "a/old-favourite"]
    assert names(search_models(user=None, sort="run_count")) == ["a/old-favourite", "b/rising"]


def test_recently_updated_sorts_by_the_latest_version(make_model: MakeModel) -> None:
    make_model("a/stale", age_days=300)
    make_model("b/fresh", age_days=1)
    assert names(search_models(user=None, sort="updated")) == ["b/fresh", "a/stale"]


def test_pages_have_a_total_and_do_not_overlap(make_model: MakeModel) -> None:
    for i in range(7):
        make_model(f"a/tool-{i}", "A handy tool", runs=i)
    first = search_models(user=None, text="tool", limit=3)
    second = search_models(user=None, text="tool", limit=3, offset=3)
    last = search_models(user=None, text="tool", limit=3, offset=6)
    assert (first.total, second.total, last.total) == (7, 7, 7)
    assert first.has_more and not last.has_more
    everything = names(first) + names(second) + names(last)
    assert len(set(everything)) == 7
    beyond = search_models(user=None, text="tool", limit=3, offset=30)
    assert (names(beyond), beyond.total) == ([], 7)


def test_scores_are_given_per_model(make_model: MakeModel) -> None:
    model = make_model("openai/whisper", "Speech recognition")
    assert search_models(user=None, text="whisper").scores[model.pk] > 0


def test_an_unknown_sort_is_invalid_input(db: Any) -> None:
    with pytest.raises(InvalidInput):
        search_models(user=None, sort="stars")


def test_totals_stop_counting_at_the_cap(make_model: MakeModel, monkeypatch: Any) -> None:
    from registry.search import database

    monkeypatch.setattr(database, "TOTAL_CAP", 3)
    for i in range(5):
        make_model(f"a/tool-{i}", "A handy tool")
    assert search_models(user=None, text="tool").total == 3
    assert search_models(user=None).total == 3
    assert sum(v.count for v in search_models(user=None).facets["owner"]) == 5


def test_facet_counts_are_cached_until_a_document_changes(
    make_model: MakeModel, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.SEARCH_FACETS_CACHE_SECONDS = 60
    model = make_model("a/one", tags=["vision"])
    make_model("a/two", tags=["vision"])
    first = search_models(user=None).facets
    with django_assert_num_queries(4):  # hits, count, cache key, models for cards: no facets
        assert search_models(user=None).facets == first
    model.visibility = "private"
    model.save()
    search.index_model(model.pk)
    assert [(v.value, v.count) for v in search_models(user=None).facets["tag"]] == [("vision", 1)]


@pytest.mark.skipif(not on_postgres(), reason="the bounded ranking is PostgreSQL's")
def test_a_broad_query_ranks_its_most_popular_matches_and_the_one_named_like_it(
    make_model: MakeModel, monkeypatch: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from registry.search import database

    monkeypatch.setattr(database, "CANDIDATES", 1)
    monkeypatch.setattr(database.PostgresSearch, "ranks_candidates", lambda self: True)
    for i in range(6):
        make_model(f"a/tool-{i}", "A handy tool", runs=10**i)
    make_model("b/tool", "Unknown")
    with CaptureQueriesContext(connection) as statements:
        result = search_models(user=None, text="tool", limit=2)
    assert any("candidates AS" in s["sql"] for s in statements.captured_queries)
    # Three candidates (two for the page, one beyond) and the exact name; all counted.
    assert names(result) == ["b/tool", "a/tool-5"]
    assert result.total == 7
    assert names(search_models(user=None, text="tool", limit=2, offset=2)) == [
        "a/tool-4",
        "a/tool-3",
    ]


@pytest.mark.skipif(not on_postgres(), reason="the bounded ranking is PostgreSQL's")
@pytest.mark.parametrize(("others", "runs"), [(10**7, 10**6), (1000, 100)])
def test_a_broad_query_finds_the_signature_it_asks_for_among_popular_models_or_else_the_first(
    make_model: MakeModel, monkeypatch: Any, others: int, runs: int
) -> None:
    from registry.search import database

    monkeypatch.setattr(database, "CANDIDATES", 1)
    monkeypatch.setattr(database.PostgresSearch, "ranks_candidates", lambda self: True)
    # More models using the words than the candidates hold, more run, none with the
    # signature; all popular (quality over TOP_QUALITY) or none.
    for i in range(4):
        make_model(f"a/speech-{i}", "Speech to text notes", runs=others + i)
    make_model("b/listen", "Speech to text", signature="audio-to-text", runs=runs)
    result = search_models(user=None, text="speech to text", limit=1)
    assert names(result) == ["b/listen"]


@pytest.mark.skipif(not on_postgres(), reason="facet sampling is PostgreSQL's")
def test_a_broad_query_estimates_its_facets_from_a_sample_and_says_so(
    make_model: MakeModel, monkeypatch: Any
) -> None:
    from registry.search import database

    make_model("a/one", "tool", tags=["vision"])
    make_model("a/two", "tool", tags=["vision"])
    make_model("b/three", "tool", tags=["audio"], visibility="private")
    make_model("b/four", "tool", tags=["audio"])
    monkeypatch.setattr(database, "TOTAL_CAP", 3)
    # The whole table as the sample: the estimates are then the exact counts, filters,
    # visibility and the disjunctive counts included.
    monkeypatch.setattr(database.PostgresSearch, "sample_percent", lambda self, total: 100.0)
    result = search_models(user=None, text="tool", filters={"tag": ["vision"]})
    assert result.facets_approximate
    assert {(v.value, v.count) for v in result.facets["tag"]} == {("vision", 2), ("audio", 1)}
    assert [(v.value, v.count) for v in result.facets["owner"]] == [("a", 2)]


@pytest.mark.skipif(not on_postgres(), reason="facet sampling is PostgreSQL's")
def test_facets_are_sampled_only_past_the_total_cap_in_a_table_larger_than_the_sample(
    make_model: MakeModel, monkeypatch: Any
) -> None:
    from django.db import connection

    from registry.search import database

    for i in range(4):
        make_model(f"a/tool-{i}", "tool")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_searchdocument")
    backend = database.PostgresSearch("default")
    assert backend.sample_percent(database.TOTAL_CAP - 1) is None
    assert backend.sample_percent(database.TOTAL_CAP) is None  # 4 rows: count them all
    monkeypatch.setattr(database, "FACET_SAMPLE_ROWS", 2)
    assert backend.sample_percent(database.TOTAL_CAP) == 50.0
    assert not search_models(user=None, text="tool").facets_approximate


def test_estimated_counts_keep_two_significant_digits() -> None:
    from registry.search.database import estimate

    assert [estimate(v) for v in (7.4, 99.6, 456.0, 1234.0, 98765.0)] == [7, 100, 460, 1200, 99000]


@pytest.mark.skipif(not on_postgres(), reason="the tsvector is PostgreSQL's")
def test_the_vector_weighs_names_a_and_the_description_b_and_follows_updates(
    make_model: MakeModel,
) -> None:
    from django.db import connection

    model = make_model("openai/whisper", "Speech recognition")

    def lexemes(weights: str) -> str:
        with connection.cursor() as cursor:
            cursor.execute(
                'SELECT ts_filter(vector, %s::"char"[])::text FROM registry_searchdocument '
                "WHERE model_id = %s",
                [weights, model.pk],
            )
            return str(cursor.fetchone()[0])

    assert "'whisper':" in lexemes("{a}") and "'speech':" not in lexemes("{a}")
    assert "'speech':" in lexemes("{b}")
    model.description = "Transcribes audio"
    model.save()
    search.index_model(model.pk)
    assert "'transcrib':" in lexemes("{b}") and "'speech':" not in lexemes("{b}")


@pytest.mark.skipif(not on_postgres(), reason="counts PostgreSQL's statements")
def test_a_word_search_with_facets_takes_four_queries_whatever_the_page_holds(
    make_model: MakeModel, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.SEARCH_FACETS_CACHE_SECONDS = 0
    for i in range(8):
        make_model(f"a/tool-{i}", "A handy tool", tags=["util", f"t{i}"])
    # Known word with the table size, ranked page with total, facets, models for cards.
    with django_assert_num_queries(4):
        result = search_models(user=None, text="tool")
    assert len(result.models) == 8 and result.facets["tag"][0].count == 8
    # The API's model objects also hold the hardware, latest version, example and tags.
    with django_assert_num_queries(5):
        full = search_models(user=None, text="tool", full_models=True).models
        assert all("util" in [tag.name for tag in model.tags.all()] for model in full)
        assert [model.hardware.sku for model in full] == ["cpu"] * 8


@pytest.mark.skipif(not on_postgres(), reason="the partial index is PostgreSQL's")
@pytest.mark.django_db
def test_the_popular_documents_index_covers_the_quality_the_search_calls_popular() -> None:
    from django.db import connection

    from registry.search.database import TOP_QUALITY

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'searchdoc_vector_top_gin'"
        )
        (definition,) = cursor.fetchone()
    assert f"WHERE (quality >= ({TOP_QUALITY})::double precision)" in definition
