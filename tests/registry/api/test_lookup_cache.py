"""Schema lookups of public models answered from memory (registry/lookup_cache.py), and
every way the answer could outlive what it answered: each change is made from another
database connection, as another process (or a shell, or raw SQL) would make it, so only
the triggers of migration 0012 and the change listener can tell this process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction

from registry import events, lookup_cache
from registry.models import MLModel
from registry.selectors import VersionDocument
from tests.factories import ModelFactory, VersionFactory

pytestmark = pytest.mark.django_db(transaction=True)

cache = lookup_cache.cache


@pytest.fixture(autouse=True)
def _postgres_listening() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the lookup cache needs LISTEN/NOTIFY: PostgreSQL only (off on SQLite)")
    cache.ticket()  # starts following the catalog
    assert events._listener.connected.wait(5)


def _path(version: Any) -> str:
    model = version.model
    return f"/v1/models/{model.owner.username}/{model.name}/versions/{version.id}"


def _elsewhere(sql: str, params: Any) -> None:
    """Run `sql` (statements separated by ";") in one transaction on a connection of its
    own, committed, as another process would."""
    with (
        psycopg.connect(**connection.get_connection_params(), autocommit=True) as other,
        other.transaction(),
    ):
        for statement in sql.split(";"):
            other.execute(statement, params)


def _emptied(timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while len(cache) and time.monotonic() < deadline:
        time.sleep(0.005)
    return len(cache) == 0


def test_a_public_schema_lookup_is_answered_from_memory_the_second_time(
    api: Any, django_assert_num_queries: Any
) -> None:
    version = VersionFactory()
    first = api.get(_path(version))
    with django_assert_num_queries(0):
        again = api.get(_path(version))
        not_modified = api.get(_path(version), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert not_modified.status_code == 304


CHANGES = {
    "made private": "UPDATE registry_model SET visibility = 'private' WHERE id = %(model)s",
    "renamed": "UPDATE registry_model SET name = 'renamed' WHERE id = %(model)s",
    "owner renamed": "UPDATE registry_owner SET username = 'someone-else' WHERE id = %(owner)s",
    "version deleted": (
        "UPDATE registry_model SET latest_version_id = NULL WHERE id = %(model)s;"
        " DELETE FROM registry_version WHERE id = %(version)s"),
    "model deleted": (
        "UPDATE registry_model SET latest_version_id = NULL WHERE id = %(model)s;"
        " DELETE FROM registry_version WHERE model_id = %(model)s;"
        " DELETE FROM registry_searchdocument WHERE model_id = %(model)s;"
        " DELETE FROM registry_model WHERE id = %(model)s"),
}  # fmt: skip


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_made_elsewhere_empties_the_cache(api: Any, change: str) -> None:
    version = VersionFactory()
    path = _path(version)
    assert api.get(path).status_code == 200
    assert len(cache) == 1
    ids = {"model": version.model_id, "owner": version.model.owner_id, "version": version.id}
    _elsewhere(CHANGES[change], ids)
    assert _emptied(), f"{change}: no notification emptied the cache"
    assert api.get(path).status_code == 404


def test_changes_a_lookup_cannot_see_keep_the_cache(api: Any) -> None:
    version = VersionFactory()
    assert api.get(_path(version)).status_code == 200
    _elsewhere(
        "UPDATE registry_model SET run_count = run_count + 1, description = 'new' WHERE id = %s",
        [version.model_id],
    )
    time.sleep(0.3)  # a notification would have arrived by now (it takes about 1 ms)
    assert len(cache) == 1


def test_a_change_made_here_is_seen_here_at_once(
    auth_api: Any, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = VersionFactory(model=ModelFactory(owner=user.owner))
    assert auth_api.get(_path(version)).status_code == 200
    monkeypatch.setattr(events, "_catalog_changed", lambda: None)  # the NOTIFY goes unheard
    model = version.model
    model.visibility = MLModel.Visibility.PRIVATE
    model.save()
    assert len(cache) == 0  # at commit, without waiting for the NOTIFY


def test_private_models_are_never_kept(auth_api: Any, user: Any) -> None:
    version = VersionFactory(model=ModelFactory(owner=user.owner, visibility="private"))
    assert auth_api.get(_path(version)).status_code == 200
    assert auth_api.get(_path(version)).status_code == 200
    assert len(cache) == 0


def test_inside_a_transaction_the_cache_is_not_used(api: Any) -> None:
    version = VersionFactory()
    with transaction.atomic():
        assert api.get(_path(version)).status_code == 200
    assert len(cache) == 0


def test_when_the_listener_hangs_up_the_cache_is_emptied_and_not_filled(api: Any) -> None:
    version = VersionFactory()
    assert api.get(_path(version)).status_code == 200
    assert len(cache) == 1
    events._listener._retry_at = time.monotonic() + 60  # as after a failed connection
    try:
        events.stop_listening()
        assert len(cache) == 0
        assert cache.ticket() is None
        assert api.get(_path(version)).status_code == 200
        assert len(cache) == 0
    finally:
        events._listener._retry_at = 0.0


def test_a_document_read_before_a_change_is_not_kept() -> None:
    ticket = cache.ticket()
    assert ticket is not None
    cache.clear()  # what the listener does when it hears a change
    cache.put(("o", "m", "v"), _document("{}"), ticket)
    assert len(cache) == 0


def _document(schema: str) -> VersionDocument:
    return VersionDocument(id="v", created_at=datetime.now(UTC), cog_version="0.23.1",
                           schema_json=schema)  # fmt: skip


@pytest.fixture
def small_cache() -> Iterator[lookup_cache.LookupCache]:
    small = lookup_cache.LookupCache(max_bytes=110)
    yield small
    events._catalog_subscribers.remove(small.clear)


def test_the_least_recently_used_documents_go_first(
    small_cache: lookup_cache.LookupCache,
) -> None:
    ticket = small_cache.ticket()
    assert ticket is not None
    for n in range(3):
        small_cache.put(("o", "m", f"v{n}"), _document("x" * 30), ticket)
    assert small_cache.get(("o", "m", "v0")) is not None  # now the most recent
    small_cache.put(("o", "m", "v3"), _document("x" * 30), ticket)
    assert small_cache.get(("o", "m", "v1")) is None
    assert small_cache.get(("o", "m", "v0")) is not None
    small_cache.put(("o", "m", "big"), _document("x" * 200), ticket)  # larger than it all
    assert small_cache.get(("o", "m", "big")) is None
