"""Against a real Meilisearch server: run with MEILISEARCH_URL (and MEILISEARCH_API_KEY)
set, e.g. `docker run -p 7700:7700 getmeili/meilisearch` then
`MEILISEARCH_URL=http://127.0.0.1:7700 make test PYTEST_ARGS="-m meilisearch"`."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any, TypeVar

import pytest
from django.core.management import call_command

from registry import backends, services
from registry.search import sync
from registry.search.meili import MeilisearchBackend
from registry.search.service import search_models
from tests.factories import UserFactory
from tests.registry.search.helpers import MakeModel, names

T = TypeVar("T")

pytestmark = [
    pytest.mark.meilisearch,
    pytest.mark.skipif(
        not os.environ.get("MEILISEARCH_URL"),
        reason="MEILISEARCH_URL is not set: no Meilisearch server to test against",
    ),
    pytest.mark.django_db,
]


@pytest.fixture
def meili(settings: Any) -> Iterator[MeilisearchBackend]:
    settings.SEARCH_BACKEND = "meilisearch"
    settings.MEILISEARCH_URL = os.environ["MEILISEARCH_URL"]
    settings.MEILISEARCH_API_KEY = os.environ.get("MEILISEARCH_API_KEY", "")
    settings.MEILISEARCH_INDEX = f"vitrine-test-{uuid.uuid4().hex[:8]}"
    backend = backends.search_backend()
    backend.setup()
    yield backend
    for uid in (backend.index_uid, f"{backend.index_uid}-rebuild"):
        with contextlib.suppress(Exception):  # the index may not exist
            backend.client.delete_index(uid)


def eventually(check: Callable[[], T], *, seconds: float = 10) -> T:
    """Meilisearch indexes asynchronously: retry until the check passes."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_models_are_found_with_typos_and_private_ones_only_by_members(
    meili: MeilisearchBackend, make_model: MakeModel
) -> None:
    make_model("openai/whisper", "Speech recognition", signature="audio-to-text", runs=10**6)
    secret = make_model("acme/secret", "Whisper for us", visibility="private")
    sync.sync_pending(meili)

    def found() -> None:
        result = search_models(user=None, text="wisper")
        assert result.backend == "meilisearch"
        assert names(result) == ["openai/whisper"]

    eventually(found)
    member = UserFactory()
    services.membership_add(organization=secret.owner, user=member)
    assert sorted(names(search_models(user=member, text="whisper"))) == [
        "acme/secret",
        "openai/whisper",
    ]
    facets = search_models(user=None, text="whisper").facets
    assert [(v.value, v.count) for v in facets["owner"]] == [("openai", 1)]
    assert names(search_models(user=None, text="input:audio")) == ["openai/whisper"]


def test_deletes_and_visibility_changes_reach_the_index(
    meili: MeilisearchBackend, user: Any
) -> None:
    model = services.model_create(actor=user, owner="alice", name="notes")
    sync.sync_pending(meili)
    eventually(lambda: _assert_names("notes", ["alice/notes"]))
    services.model_update(actor=user, model=model, visibility="private")
    sync.sync_pending(meili)
    eventually(lambda: _assert_total("notes", 0))
    services.model_delete(actor=user, model=model)
    sync.sync_pending(meili)
    eventually(lambda: _assert_total("notes", 0, user=user))


def test_reindex_rebuilds_the_index_from_the_database(
    meili: MeilisearchBackend, make_model: MakeModel
) -> None:
    make_model("openai/whisper", "Speech recognition")
    call_command("reindex", stdout=StringIO())
    eventually(lambda: _assert_names("speech", ["openai/whisper"]))


def _assert_names(text: str, expected: list[str]) -> None:
    assert names(search_models(user=None, text=text)) == expected


def _assert_total(text: str, total: int, user: Any = None) -> None:
    assert search_models(user=user, text=text).total == total
