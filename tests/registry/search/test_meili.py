"""The Meilisearch backend against a recording test double of the client (no server can
run here): the documents and settings it builds, the requests it sends, how it reads
answers, and what happens when the server is gone. test_meili_live.py runs the real
thing when MEILISEARCH_URL is set."""

from __future__ import annotations

from typing import Any

import pytest

from registry import backends, services
from registry.models import SearchDocument
from registry.search import sync
from registry.search.base import SearchQuery, SearchUnavailable
from registry.search.meili import (
    INDEX_SETTINGS,
    MeilisearchBackend,
    filters_for,
    meili_document,
    quote,
)
from registry.search.service import search_health, search_models
from tests.registry.search.doubles import RecordingMeiliClient
from tests.registry.search.helpers import MakeModel, names

pytestmark = pytest.mark.django_db

MEILI = "registry.search.meili.MeilisearchBackend"


@pytest.fixture
def client() -> RecordingMeiliClient:
    return RecordingMeiliClient()


@pytest.fixture
def backend(client: RecordingMeiliClient) -> MeilisearchBackend:
    return MeilisearchBackend(client, index="models")


@pytest.fixture
def configured(settings: Any, client: RecordingMeiliClient) -> MeilisearchBackend:
    """Meilisearch as the configured backend, talking to the recording client."""
    settings.SEARCH_BACKEND = "meilisearch"
    settings.MEILISEARCH_INDEX = "models"
    backend = backends.search_backend()
    backend._client = client
    return backend


def test_a_document_carries_text_facets_visibility_and_ranking_fields(
    make_model: MakeModel,
) -> None:
    model = make_model(
        "openai/whisper",
        "Speech recognition",
        tags=["audio"],
        signature="audio-to-text",
        runs=10**6,
        hardware="gpu-t4",
    )
    row = SearchDocument.objects.get(pk=model.pk)
    document = meili_document(row)
    assert document["id"] == model.pk
    assert document["full_name"] == "openai/whisper"
    assert (document["owner"], document["owner_id"], document["visibility"]) == (
        "openai",
        model.owner_id,
        "public",
    )
    assert (document["tags"], document["hardware"]) == (["audio"], "gpu-t4")
    assert (document["input_kinds"], document["output_kinds"]) == (["audio"], ["text"])
    assert document["summary"] == "Speech recognition"
    assert document["run_count"] == 10**6
    assert 0 < document["popularity"] <= 20
    assert document["updated_at"] == int(row.updated_at.timestamp())
    # Every attribute the settings name exists in the document.
    for attribute in INDEX_SETTINGS["filterableAttributes"] + INDEX_SETTINGS["sortableAttributes"]:
        assert attribute in document
    assert set(INDEX_SETTINGS["searchableAttributes"]) <= set(document)


def test_the_settings_rank_by_relevance_then_popularity_and_recency() -> None:
    rules = INDEX_SETTINGS["rankingRules"]
    assert rules[0] == "sort"
    assert rules.index("words") < rules.index("popularity:desc") < rules.index("updated_at:desc")
    assert {"run_count", "runs_7d", "updated_at"} <= set(INDEX_SETTINGS["sortableAttributes"])
    assert {"visibility", "owner_id", "tags", "input_kinds", "output_kinds"} <= set(
        INDEX_SETTINGS["filterableAttributes"]
    )


def test_setup_creates_a_missing_index_and_applies_settings_idempotently(
    backend: MeilisearchBackend, client: RecordingMeiliClient
) -> None:
    backend.setup()
    assert client.names() == [
        "get_raw_indexes",
        "create_index",
        "wait_for_task",
        "index(models).update_settings",
        "wait_for_task",
    ]
    assert client.calls[1][1] == ("models", {"primaryKey": "id"})
    assert client.calls[3][1] == (INDEX_SETTINGS,)
    client.calls.clear()
    backend.setup()
    assert "create_index" not in client.names()
    assert "index(models).update_settings" in client.names()


def test_documents_are_pushed_after_the_settings_once(
    backend: MeilisearchBackend, client: RecordingMeiliClient, make_model: MakeModel
) -> None:
    rows = [SearchDocument.objects.get(pk=make_model(f"a/m{i}").pk) for i in range(3)]
    backend.index_documents(rows[:2])
    backend.index_documents(rows[2:])
    pushes = [c for c in client.calls if c[0] == "index(models).add_documents"]
    assert [[d["id"] for d in call[1][0]] for call in pushes] == [
        [rows[0].pk, rows[1].pk],
        [rows[2].pk],
    ]
    assert pushes[0][2] == {"primary_key": "id"}
    assert client.names().count("index(models).update_settings") == 1


def test_removed_models_are_deleted_by_an_id_filter(
    backend: MeilisearchBackend, client: RecordingMeiliClient
) -> None:
    backend.remove_models([3, 1, 3])
    assert client.calls == [("index(models).delete_documents", (None,), {"filter": "id IN [1, 3]"})]


def test_anonymous_searches_are_filtered_to_public_models(
    backend: MeilisearchBackend, client: RecordingMeiliClient
) -> None:
    backend.query(SearchQuery(text="whisper"))
    ((name, (requests,), _),) = client.calls
    assert name == "multi_search"
    assert requests == [
        {
            "indexUid": "models",
            "q": "whisper",
            "filter": ["visibility = public"],
            "limit": 20,
            "offset": 0,
            "attributesToRetrieve": ["id"],
            "showRankingScore": True,
            "matchingStrategy": "all",
        }
    ]


def test_members_also_see_their_owners_private_models(backend: MeilisearchBackend) -> None:
    filters = filters_for(SearchQuery(owner_ids=(4, 9)))
    assert filters == ["visibility = public OR owner_id IN [4, 9]"]


def test_staff_searches_are_not_filtered_by_visibility(backend: MeilisearchBackend) -> None:
    assert filters_for(SearchQuery(sees_everything=True)) == []
    backend.query(SearchQuery(text="x", sees_everything=True))
    main = backend.client.calls[-1][1][0][0]
    assert main["filter"] is None


def test_facet_filters_are_or_within_a_facet_and_values_are_quoted() -> None:
    query = SearchQuery(filters={"tag": ("llm", 'say "hi"'), "input": ("image",)})
    assert filters_for(query) == [
        "visibility = public",
        ['tags = "llm"', 'tags = "say \\"hi\\""'],
        ['input_kinds = "image"'],
    ]
    assert quote("back\\slash") == '"back\\\\slash"'


def test_sorts_map_to_sortable_attributes(
    backend: MeilisearchBackend, client: RecordingMeiliClient
) -> None:
    for sort, expected in [
        ("trending", ["runs_7d:desc", "run_count:desc"]),
        ("run_count", ["run_count:desc"]),
        ("updated", ["updated_at:desc"]),
    ]:
        client.calls.clear()
        backend.query(SearchQuery(sort=sort))
        assert client.calls[0][1][0][0]["sort"] == expected
    client.calls.clear()
    backend.query(SearchQuery())
    assert "sort" not in client.calls[0][1][0][0]


def test_hits_totals_scores_and_disjunctive_facets_are_read_from_one_request(
    backend: MeilisearchBackend, client: RecordingMeiliClient
) -> None:
    client.responses = [
        {
            "hits": [{"id": 7, "_rankingScore": 0.91234}, {"id": 3, "_rankingScore": 0.5}],
            "estimatedTotalHits": 2,
            "facetDistribution": {
                "owner": {"openai": 2},
                "tags": {"audio": 2},
                "input_kinds": {"audio": 2},
            },
        },
        {"hits": [], "facetDistribution": {"tags": {"audio": 2, "vision": 5}}},
    ]
    hits = backend.query(SearchQuery(text="speech", filters={"tag": ("audio",)}, facets=True))
    requests = client.calls[0][1][0]
    assert len(requests) == 2
    assert requests[0]["facets"] == [
        "owner",
        "tags",
        "collections",
        "hardware",
        "input_kinds",
        "output_kinds",
    ]
    # The tag facet's own query drops the tag filter and fetches no hits.
    assert requests[1]["filter"] == ["visibility = public"]
    assert (requests[1]["facets"], requests[1]["limit"]) == (["tags"], 0)
    assert hits.ids == [7, 3]
    assert hits.total == 2
    assert hits.scores == {7: 0.9123, 3: 0.5}
    assert [(v.value, v.count) for v in hits.facets["tag"]] == [("vision", 5), ("audio", 2)]
    assert [(v.value, v.count) for v in hits.facets["owner"]] == [("openai", 2)]
    assert hits.facets["collection"] == []


def test_an_exact_owner_slash_name_is_pinned_first(
    backend: MeilisearchBackend, client: RecordingMeiliClient
) -> None:
    client.responses = [
        {"hits": [{"id": 1}, {"id": 2}, {"id": 5}], "estimatedTotalHits": 3},
        {"hits": [{"id": 5}]},
    ]
    hits = backend.query(SearchQuery(text="Stability-AI/sdxl", limit=3))
    pin = client.calls[0][1][0][1]
    assert pin["filter"] == ["visibility = public", 'full_name = "stability-ai/sdxl"']
    assert hits.ids == [5, 1, 2]


def test_when_no_document_has_every_word_any_word_is_enough(
    backend: MeilisearchBackend, client: RecordingMeiliClient
) -> None:
    client.responses = [
        {"hits": [], "estimatedTotalHits": 0},
        {"hits": [{"id": 4}], "estimatedTotalHits": 1},
    ]
    assert backend.query(SearchQuery(text="whisper zebra")).ids == [4]
    strategies = [call[1][0][0]["matchingStrategy"] for call in client.calls]
    assert strategies == ["all", "last"]


def test_a_server_that_is_gone_is_not_asked_again_for_a_while(
    backend: MeilisearchBackend, client: RecordingMeiliClient, settings: Any
) -> None:
    client.down = True
    with pytest.raises(SearchUnavailable, match="Connection refused"):
        backend.query(SearchQuery(text="x"))
    client.down = False
    with pytest.raises(SearchUnavailable):
        backend.query(SearchQuery(text="x"))  # answered without calling the server
    assert client.calls == []
    settings.SEARCH_RETRY_SECONDS = 0
    backend._down_until = 0.0
    backend.query(SearchQuery(text="x"))
    assert client.names() == ["multi_search"]


def test_searches_fall_back_to_the_database_when_meilisearch_is_down(
    configured: MeilisearchBackend, client: RecordingMeiliClient, make_model: MakeModel
) -> None:
    make_model("openai/whisper", "Speech recognition")
    client.down = True
    result = search_models(user=None, text="speech")
    assert names(result) == ["openai/whisper"]
    assert result.backend == "database"
    assert "meilisearch unavailable" in result.fallback_reason
    assert "Connection refused" in result.fallback_reason


def test_without_a_url_meilisearch_is_unavailable_and_the_database_answers(
    settings: Any, make_model: MakeModel
) -> None:
    settings.SEARCH_BACKEND = "meilisearch"
    settings.MEILISEARCH_URL = ""
    make_model("openai/whisper", "Speech recognition")
    result = search_models(user=None, text="whisper")
    assert names(result) == ["openai/whisper"]
    assert "MEILISEARCH_URL is not set" in result.fallback_reason


def test_results_from_meilisearch_are_loaded_in_its_order_and_rechecked_for_visibility(
    configured: MeilisearchBackend, client: RecordingMeiliClient, make_model: MakeModel
) -> None:
    public = make_model("a/public")
    other = make_model("b/other")
    # The index has not caught up with this model turning private yet.
    stale = make_model("c/now-private", visibility="private")
    client.responses = [
        {"hits": [{"id": other.pk}, {"id": stale.pk}, {"id": public.pk}], "estimatedTotalHits": 3}
    ]
    result = search_models(user=None, text="anything", facets=False)
    assert names(result) == ["b/other", "a/public"]
    assert result.backend == "meilisearch"


def test_health_is_degraded_with_the_reason_when_meilisearch_is_down(
    configured: MeilisearchBackend, client: RecordingMeiliClient
) -> None:
    client.down = True
    health = search_health()
    assert health.status == "degraded"
    assert "Connection refused" in health.detail
    assert "searching the database instead" in health.detail
    assert health.info["fallback"] == "database"


def test_healthz_reports_search_degraded_but_answers_200(
    configured: MeilisearchBackend, client: RecordingMeiliClient
) -> None:
    from django.test import Client

    client.down = True
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["search"]["status"] == "degraded"
    assert "searching the database instead" in body["checks"]["search"]["detail"]


def test_health_is_ok_with_document_and_queue_counts_when_reachable(
    configured: MeilisearchBackend, client: RecordingMeiliClient, user: Any
) -> None:
    services.model_create(actor=user, owner="alice", name="notes")
    health = search_health()
    assert health.status == "ok"
    assert health.info["backend"] == "meilisearch"
    assert health.info["pending_changes"] == 1


def test_queued_changes_are_pushed_and_deletes_removed(
    configured: MeilisearchBackend, client: RecordingMeiliClient, user: Any
) -> None:
    kept = services.model_create(actor=user, owner="alice", name="kept")
    gone = services.model_create(actor=user, owner="alice", name="gone")
    gone_id = gone.pk
    services.model_delete(actor=user, model=gone)
    assert sync.sync_pending() == 2
    pushed = [c for c in client.calls if c[0] == "index(models).add_documents"]
    assert [d["id"] for d in pushed[0][1][0]] == [kept.pk]
    deleted = [c for c in client.calls if c[0] == "index(models).delete_documents"]
    assert deleted[0][2] == {"filter": f"id IN [{gone_id}]"}


def test_a_rebuild_fills_a_staging_index_and_swaps_it_in(
    backend: MeilisearchBackend, client: RecordingMeiliClient, make_model: MakeModel
) -> None:
    client.indexes = {"models"}
    rows = [SearchDocument.objects.get(pk=make_model(f"a/m{i}").pk) for i in range(3)]
    progress: list[tuple[int, int]] = []
    backend.rebuild(
        iter(rows), total=3, progress=lambda done, total: progress.append((done, total))
    )
    assert progress == [(3, 3)]
    assert client.names() == [
        "get_raw_indexes",
        "get_raw_indexes",
        "create_index",
        "wait_for_task",
        "index(models-rebuild).update_settings",
        "wait_for_task",
        "index(models-rebuild).add_documents",
        "wait_for_task",
        "swap_indexes",
        "wait_for_task",
        "delete_index",
        "wait_for_task",
    ]
    assert set(client.documents["models"]) == {row.pk for row in rows}
