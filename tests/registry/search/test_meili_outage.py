"""Meilisearch goes down and comes back, with the real `meilisearch` client talking
real HTTP to a test double of the server on loopback (no Meilisearch can run here;
test_meili_live.py runs the real one when MEILISEARCH_URL is set).

While it is down, searches are answered from the database and /healthz says so;
changes stay queued. When it is back, the reaper, the next change or `reindex` brings
the index level with the database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from registry import reaper, services
from registry.models import SearchDocument, SearchSyncPending
from registry.search.meili import meili_document
from registry.search.service import search_models
from tests.registry.search.doubles import MeilisearchHttpDouble
from tests.registry.search.helpers import names

pytestmark = pytest.mark.django_db

INDEX = "models"
RETRY_SECONDS = 1


@pytest.fixture
def meili(settings: Any) -> Iterator[MeilisearchHttpDouble]:
    double = MeilisearchHttpDouble()
    double.start()
    settings.SEARCH_BACKEND = "meilisearch"
    settings.MEILISEARCH_URL = double.url
    settings.MEILISEARCH_INDEX = INDEX
    settings.SEARCH_RETRY_SECONDS = RETRY_SECONDS
    settings.SEARCH_FACETS_CACHE_SECONDS = 0
    yield double
    double.stop()


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """Run what a write schedules after commit (the search task, inline here)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def assert_index_matches_database(double: MeilisearchHttpDouble) -> None:
    expected = {row.pk: meili_document(row) for row in SearchDocument.objects.all()}
    assert double.documents(INDEX) == expected
    assert not SearchSyncPending.objects.exists()


def back_up(double: MeilisearchHttpDouble) -> None:
    double.start()
    time.sleep(RETRY_SECONDS + 0.1)  # the backend leaves a failed server alone this long


def an_outage(user: Any, double: MeilisearchHttpDouble, committed: Any) -> dict[str, int]:
    """Three models indexed; then, with Meilisearch down, one changes its visibility, one
    is deleted and one is created."""
    with committed():
        kept = services.model_create(actor=user, owner="alice", name="kept", description="Quokka")
        gone = services.model_create(actor=user, owner="alice", name="gone", description="Quokka")
    assert_index_matches_database(double)
    result = search_models(user=None, text="quokka")
    assert (result.backend, sorted(names(result))) == ("meilisearch", ["alice/gone", "alice/kept"])
    ids = {"kept": kept.pk, "gone": gone.pk}
    double.stop()
    with committed():
        fresh = services.model_create(actor=user, owner="alice", name="fresh", description="Quokka")
        services.model_update(actor=user, model=kept, visibility="private")
        services.model_delete(actor=user, model=gone)
    return {**ids, "fresh": fresh.pk}


def test_while_it_is_down_search_falls_back_healthz_says_so_and_changes_stay_queued(
    meili: MeilisearchHttpDouble, user: Any, committed: Any, client: Any, admin_client: Any
) -> None:
    ids = an_outage(user, meili, committed)
    queued = set(SearchSyncPending.objects.values_list("model_id", flat=True))
    assert queued == set(ids.values())
    result = search_models(user=None, text="quokka")
    assert (result.backend, names(result)) == ("database", ["alice/fresh"])
    assert result.fallback_reason.startswith("meilisearch unavailable: ")
    answer = client.get("/v1/search", {"query": "quokka"})
    assert answer.status_code == 200
    assert [hit["model"]["name"] for hit in answer.json()["models"]] == ["fresh"]
    page = client.get("/search", {"q": "quokka"})
    assert page.status_code == 200 and 'href="/alice/fresh"' in page.content.decode()
    health = admin_client.get("/healthz")  # staff see the queue's size
    search = health.json()["checks"]["search"]
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    assert (search["status"], search["fallback"], search["pending_changes"]) == (
        "degraded",
        "database",
        3,
    )
    assert "searching the database instead" in search["detail"]
    # The index still holds what it had before the outage: nothing reached it.
    assert set(meili.documents(INDEX)) == {ids["kept"], ids["gone"]}


def test_when_it_is_back_the_reaper_catches_up(
    meili: MeilisearchHttpDouble, user: Any, committed: Any, admin_client: Any
) -> None:
    an_outage(user, meili, committed)
    assert reaper.reap()["search_caught_up"] == 0  # still down: nothing lost, nothing sent
    assert SearchSyncPending.objects.count() == 3
    back_up(meili)
    assert reaper.reap()["search_caught_up"] == 3
    assert_index_matches_database(meili)
    result = search_models(user=None, text="quokka")
    assert (result.backend, names(result)) == ("meilisearch", ["alice/fresh"])
    search = admin_client.get("/healthz").json()["checks"]["search"]
    assert (search["status"], search["pending_changes"], search["documents"]) == ("ok", 0, 2)
    assert reaper.reap()["search_caught_up"] == 0


def test_when_it_is_back_the_next_change_pushes_the_queued_ones_too(
    meili: MeilisearchHttpDouble, user: Any, committed: Any
) -> None:
    an_outage(user, meili, committed)
    back_up(meili)
    with committed():
        services.model_create(actor=user, owner="alice", name="later", description="Quokka")
    assert_index_matches_database(meili)
    assert sorted(names(search_models(user=None, text="quokka"))) == [
        "alice/fresh",
        "alice/later",
    ]


def test_when_it_is_back_reindex_rebuilds_it_from_the_database(
    meili: MeilisearchHttpDouble, user: Any, committed: Any
) -> None:
    an_outage(user, meili, committed)
    back_up(meili)
    out = StringIO()
    call_command("reindex", stdout=out)
    assert "meilisearch: 2/2" in out.getvalue()
    assert_index_matches_database(meili)
    assert "POST /swap-indexes" in meili.requests  # filled beside the live index, then swapped
