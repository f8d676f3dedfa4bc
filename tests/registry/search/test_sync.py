"""Search follows the registry: services, the admin, deletes and runs keep it in step."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry import backends, search, services
from registry.models import MLModel, ModelRunDay, SearchDocument, SearchSyncPending, SearchTerm
from registry.search import sync
from registry.search.service import search_models
from tests.factories import (
    CollectionFactory,
    ModelFactory,
    VersionFactory,
    add_to_collection,
)
from tests.registry.search.helpers import SCHEMAS, MakeModel, names

pytestmark = pytest.mark.django_db

RECORDING = "tests.registry.search.doubles.RecordingBackend"
IMMEDIATE_TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "search"],
    }
}


def document(model: MLModel) -> SearchDocument:
    return SearchDocument.objects.get(pk=model.pk)


def test_a_model_created_through_the_service_is_searchable_at_once(user: Any) -> None:
    services.model_create(
        actor=user,
        owner="alice",
        name="whisper",
        description="Speech recognition",
        tags=["Audio"],
    )
    row = SearchDocument.objects.get(full_name="alice/whisper")
    assert (row.owner_name, row.tags, row.visibility) == ("alice", ["audio"], "public")
    assert names(search_models(user=None, text="speech")) == ["alice/whisper"]


def test_the_document_holds_the_weighted_text_and_kinds(make_model: MakeModel) -> None:
    model = make_model(
        "openai/whisper",
        "Convert speech in audio to text",
        tags=["speech-recognition"],
        signature="audio-to-text",
        readme="# Whisper\n\n```python\nimport this\n```\nRobust [speech](https://x.y) "
        "recognition.",
    )
    row = document(model)
    # PostgreSQL's parser splits "speech-recognition" itself; SQLite needs the words spelled.
    spelled = "" if connection.vendor == "postgresql" else " speech recognition"
    assert row.names_text == "openai Openai whisper speech-recognition" + spelled
    assert row.summary_text == "Convert speech in audio to text"
    assert "audio" in row.schema_text and "Audio file to transcribe" in row.schema_text
    assert row.readme_text == "Whisper Robust speech recognition."
    assert (row.input_kinds, row.output_kinds) == (["audio"], ["text"])
    assert (row.input_mask, row.output_mask) == (1 << 4, 1 << 0)  # KINDS.index: audio 4, text 0
    assert row.full_name == "openai/whisper"
    assert SearchTerm.objects.filter(term="transcribe").exists()


def test_making_a_model_private_hides_it_from_search_in_the_same_transaction(
    user: Any,
) -> None:
    model = services.model_create(actor=user, owner="alice", name="notes")
    services.model_update(actor=user, model=model, visibility="private")
    assert document(model).visibility == "private"
    assert names(search_models(user=None, text="notes")) == []
    assert names(search_models(user=user, text="notes")) == ["alice/notes"]


def test_changing_tags_reindexes(user: Any) -> None:
    model = services.model_create(actor=user, owner="alice", name="notes")
    services.model_update(actor=user, model=model, tags=["llm"])
    assert document(model).tags == ["llm"]
    services.tags_set(model=model, names=["chat", "llm"])
    assert document(model).tags == ["chat", "llm"]


def test_publishing_and_deleting_versions_change_the_signature(user: Any) -> None:
    model = ModelFactory(owner=user.owner)
    assert (document(model).input_kinds, document(model).output_kinds) == ([], [])
    older = VersionFactory(model=model, openapi_schema=SCHEMAS["image-to-text"])
    assert document(model).input_kinds == ["image"]
    newer = VersionFactory(
        model=model,
        openapi_schema=SCHEMAS["audio-to-text"],
        created_at=older.created_at + timedelta(seconds=1),
    )
    assert document(model).input_kinds == ["audio"]
    services.version_delete(actor=user, version=newer)
    assert document(model).input_kinds == ["image"]


def test_collections_are_searchable_once_reindexed(make_model: MakeModel) -> None:
    model = make_model("a/caption")
    add_to_collection(CollectionFactory(slug="vision", name="Vision models"), model)
    search.index_model(model.pk)
    assert document(model).collections == ["vision"]
    assert names(search_models(user=None, filters={"collection": ["vision"]})) == ["a/caption"]
    assert names(search_models(user=None, text="vision models")) == ["a/caption"]


def test_deleting_a_model_deletes_its_document(user: Any) -> None:
    model = services.model_create(actor=user, owner="alice", name="gone")
    services.model_delete(actor=user, model=model)
    assert not SearchDocument.objects.filter(full_name="alice/gone").exists()


def test_a_run_is_counted_per_day_and_on_the_document(make_model: MakeModel) -> None:
    model = make_model("a/busy")
    services.model_increment_run_count(model_id=model.pk)
    search.record_run(model.pk)
    day = ModelRunDay.objects.get(model=model)
    assert (day.day, day.runs) == (timezone.now().date(), 2)
    assert (document(model).run_count, document(model).runs_7d) == (2, 2)
    assert MLModel.objects.get(pk=model.pk).run_count == 1  # the service's own counter


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement on PostgreSQL")
def test_counting_a_run_is_one_statement_after_the_cache_calls(make_model: MakeModel) -> None:
    """Every run of a model updates the same three rows and holds them until commit: one
    statement, nothing after it, keeps concurrent runs of a model from queueing longer."""
    model = make_model("a/hot")
    with CaptureQueriesContext(connection) as queries:
        services.model_increment_run_count(model_id=model.pk)
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert MLModel.objects.get(pk=model.pk).run_count == 1
    assert (document(model).run_count, ModelRunDay.objects.get(model=model).runs) == (1, 1)


def test_refreshing_popularity_drops_runs_older_than_seven_days(make_model: MakeModel) -> None:
    model = make_model("a/busy")
    now = timezone.now()
    search.record_run(model.pk, when=now - timedelta(days=6))
    search.record_run(model.pk, when=now - timedelta(days=7))
    search.record_run(model.pk, when=now - timedelta(days=40))
    MLModel.objects.filter(pk=model.pk).update(run_count=3)
    before = document(model).quality
    assert sync.refresh_popularity() == 1
    row = document(model)
    assert (row.runs_7d, row.run_count) == (1, 3)
    assert row.quality > before
    assert ModelRunDay.objects.filter(model=model).count() == 2  # 40 days ago is pruned
    assert sync.refresh_popularity() == 0  # nothing changed since


def test_a_run_asks_for_a_popularity_refresh_once_in_a_while(
    make_model: MakeModel,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.cache import cache

    cache.clear()
    # As if this process had not asked yet (it remembers, to spare the cache).
    monkeypatch.setattr(sync, "_asked_on", "")
    monkeypatch.setattr(sync, "_asked_at", float("-inf"))
    settings.TASKS = IMMEDIATE_TASKS
    model = make_model("a/busy")
    ModelRunDay.objects.create(model=model, day=timezone.now().date(), runs=5)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        search.record_run(model.pk)
        search.record_run(model.pk)
    assert len(callbacks) == 1  # the second run found the refresh already asked for
    assert document(model).runs_7d == 7  # recounted from the day's row: 5 + 2


def test_with_an_external_backend_changes_are_queued_and_pushed_after_commit(
    user: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SEARCH_BACKEND = RECORDING
    settings.TASKS = IMMEDIATE_TASKS
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        model = services.model_create(actor=user, owner="alice", name="notes")
    backend = backends.search_backend()
    assert backend.indexed == []  # nothing left the transaction yet
    assert list(SearchSyncPending.objects.values_list("model_id", flat=True)) == [model.pk]
    for callback in callbacks:
        callback()
    assert backend.indexed == [model.pk]
    assert not SearchSyncPending.objects.exists()


def test_deletes_reach_the_external_index(
    user: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SEARCH_BACKEND = RECORDING
    settings.TASKS = IMMEDIATE_TASKS
    model = services.model_create(actor=user, owner="alice", name="gone")
    model_id = model.pk
    with django_capture_on_commit_callbacks(execute=True):
        services.model_delete(actor=user, model=model)
    assert backends.search_backend().removed == [model_id]


def test_cascading_deletes_reach_the_external_index(
    make_model: MakeModel, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SEARCH_BACKEND = RECORDING
    settings.TASKS = IMMEDIATE_TASKS
    model = make_model("acme/one")
    model_id = model.pk
    with django_capture_on_commit_callbacks(execute=True):
        model.owner.delete()
    assert model_id in backends.search_backend().removed


def test_changes_stay_queued_while_the_external_index_is_down(user: Any, settings: Any) -> None:
    settings.SEARCH_BACKEND = RECORDING
    backend = backends.search_backend()
    backend.failing = True
    model = services.model_create(actor=user, owner="alice", name="notes")
    assert sync.run_sync_now() == 0
    assert SearchSyncPending.objects.filter(model_id=model.pk).exists()
    backend.failing = False
    assert sync.run_sync_now() == 1
    assert backend.indexed == [model.pk]
    assert not SearchSyncPending.objects.exists()


def test_a_change_queued_again_during_a_push_is_not_lost(user: Any, settings: Any) -> None:
    settings.SEARCH_BACKEND = RECORDING
    backend = backends.search_backend()
    model = services.model_create(actor=user, owner="alice", name="notes")
    pushes = []

    def index_documents(rows: Any) -> None:
        pushes.append([row.pk for row in rows])
        if len(pushes) == 1:  # the model changes while the first push is under way
            SearchSyncPending.objects.filter(model_id=model.pk).update(
                queued_at=timezone.now() + timedelta(seconds=1)
            )

    backend.index_documents = index_documents
    sync.run_sync_now()
    assert pushes == [[model.pk], [model.pk]]


def test_the_database_backend_keeps_no_queue(user: Any) -> None:
    services.model_create(actor=user, owner="alice", name="notes")
    assert not SearchSyncPending.objects.exists()


def test_editing_a_model_in_the_admin_reindexes_it(
    admin_client: Any, make_model: MakeModel
) -> None:
    model = make_model("a/notes", "Old words")
    response = admin_client.post(
        f"/admin/registry/mlmodel/{model.pk}/change/",
        {
            "owner": model.owner_id,
            "name": model.name,
            "description": "Fresh words",
            "visibility": "private",
            "hardware": "cpu",
            "latest_version_created_at_0": "2025-01-01",
            "latest_version_created_at_1": "00:00:00",
            "created_at_0": "2025-01-01",
            "created_at_1": "00:00:00",
            "examples-TOTAL_FORMS": "0",
            "examples-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    row = document(model)
    assert (row.summary_text, row.visibility) == ("Fresh words", "private")


def test_adding_a_model_to_a_collection_in_the_admin_reindexes_it(
    admin_client: Any, make_model: MakeModel
) -> None:
    model = make_model("a/caption")
    collection = CollectionFactory(slug="vision")
    response = admin_client.post(
        f"/admin/registry/collection/{collection.pk}/change/",
        {
            "slug": "vision",
            "name": "Vision",
            "description": "",
            "full_description": "",
            "position": 0,
            "created_at_0": "2025-01-01",
            "created_at_1": "00:00:00",
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "0",
            "items-0-model": model.pk,
            "items-0-position": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert document(model).collections == ["vision"]


def test_the_demo_catalog_can_add_a_synthetic_catalog_twice_without_harm(db: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    from registry import demo

    call_command("load_demo", "--synthetic", "40", stdout=StringIO())
    call_command("load_demo", "--synthetic", "40", stdout=StringIO())
    expected = len(demo.demo_models()) + 40  # the example models and 40 generated
    assert MLModel.objects.count() == expected
    assert SearchDocument.objects.count() == expected
    assert "openai/whisper" in names(search_models(user=None, text="speech to text"))


def test_the_demo_catalog_is_searchable_after_loading(db: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    call_command("load_demo", stdout=StringIO())
    assert SearchDocument.objects.count() == MLModel.objects.count() > 0
    assert "vitrine/sentiment" in names(search_models(user=None, text="sentiment"))


def test_reindex_rebuilds_documents_and_reports_progress(make_model: MakeModel) -> None:
    from io import StringIO

    from django.core.management import call_command

    model = make_model("openai/whisper", "Speech recognition")
    SearchDocument.objects.all().delete()
    SearchTerm.objects.all().delete()
    out = StringIO()
    call_command("reindex", stdout=out)
    assert "documents: 1/1" in out.getvalue()
    assert "Search ready (database)" in out.getvalue()
    assert document(model).summary_text == "Speech recognition"
    assert SearchTerm.objects.get(term="speech").frequency == 1
    assert names(search_models(user=None, text="speech")) == ["openai/whisper"]


def test_reindex_fills_an_external_index_and_clears_its_queue(
    make_model: MakeModel, settings: Any
) -> None:
    from io import StringIO

    from django.core.management import call_command

    from tests.registry.search.doubles import RecordingMeiliClient

    settings.SEARCH_BACKEND = "meilisearch"
    client = RecordingMeiliClient()
    backends.search_backend()._client = client
    model = make_model("openai/whisper", "Speech recognition")
    assert SearchSyncPending.objects.count() == 1
    out = StringIO()
    call_command("reindex", stdout=out)
    assert "meilisearch: 1/1" in out.getvalue()
    assert set(client.documents["vitrine-models"]) == {model.pk}
    assert not SearchSyncPending.objects.exists()


def test_reindex_fails_loudly_when_the_external_index_is_unreachable(
    make_model: MakeModel, settings: Any
) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.SEARCH_BACKEND = "meilisearch"
    settings.MEILISEARCH_URL = ""
    make_model("openai/whisper")
    with pytest.raises(CommandError, match="MEILISEARCH_URL is not set"):
        call_command("reindex", stdout=StringIO())
    assert SearchDocument.objects.count() == 1  # the documents were rebuilt all the same
