"""The fast path (a short model, `Prefer: wait`) pays for as few round trips as it can: on
PostgreSQL the run, its slot and its counts are one statement, and the answer, the freed
slot, the learned run time and the change notification another, each committed on its
own, since each statement and each commit is a trip to the database (and a commit a
flush of its log)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import F, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.models import Instance, MLModel, ModelRunDay, Prediction, SearchDocument, Version

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="counts PostgreSQL's commits"),
]


def test_a_fast_run_records_its_answer_in_one_statement(hello_version: Any, auth_api: Any) -> None:
    body = {"version": hello_version.id, "input": {"text": "x"}}
    for _ in range(3):  # warm: started, and its run time learned (so the fast path applies)
        auth_api.post("/v1/predictions", body, format="json", HTTP_PREFER="wait")
    learned = Version.objects.get(pk=hello_version.pk).predict_time_ewma
    with CaptureQueriesContext(connection) as captured:
        answer = auth_api.post("/v1/predictions", body, format="json", HTTP_PREFER="wait")
    assert answer.json()["status"] == "succeeded"
    sql = [q["sql"] for q in captured.captured_queries]
    creating = [s for s in sql if 'INSERT INTO "registry_prediction"' in s]
    assert len(creating) == 1, sql
    assert all(
        part in creating[0] for part in ("registry_instance", "registry_modelrunday", "run_count")
    )
    recording = [s for s in sql if 'UPDATE "registry_prediction"' in s]
    assert len(recording) == 1, sql
    assert all(
        part in recording[0] for part in ("registry_instance", "registry_version", "pg_notify")
    )
    assert not any(s in ("BEGIN", "COMMIT") for s in sql), sql  # each statement commits alone
    # What the statement wrote: the answer, the slot back, the run time learned.
    run = Prediction.objects.get(pk=answer.json()["id"])
    assert (run.status, run.output, run.instance_id) == ("succeeded", "hello x", run.instance_id)
    assert Instance.objects.get(pk=run.instance_id).busy == 0
    assert Version.objects.get(pk=hello_version.pk).predict_time_ewma != learned


def test_an_answer_that_comes_after_a_cancel_only_gives_the_slot_back(
    hello_version: Any, auth_api: Any
) -> None:
    from registry import predictions

    body = {"version": hello_version.id, "input": {"text": "x"}}
    for _ in range(3):
        auth_api.post("/v1/predictions", body, format="json", HTTP_PREFER="wait")
    run = Prediction.objects.get(
        pk=auth_api.post("/v1/predictions", body, format="json").json()["id"]
    )
    run.refresh_from_db()
    instance = Instance.objects.filter(version_id=hello_version.pk, status="ready").first()
    assert instance is not None
    Instance.objects.filter(pk=instance.pk).update(busy=1)
    Prediction.objects.filter(pk=run.pk).update(status="canceled", dispatched_at=None, output=None)
    learned = Version.objects.get(pk=hello_version.pk).predict_time_ewma
    result = {"status": "succeeded", "output": "late", "metrics": {"predict_time": 0.5}}
    predictions._record_sync_result(run, instance, result)
    run.refresh_from_db()
    assert (run.status, run.output) == ("canceled", None)
    assert Instance.objects.get(pk=instance.pk).busy == 0
    assert Version.objects.get(pk=hello_version.pk).predict_time_ewma == learned


def _unsaved_run(version: Version, user: Any) -> Prediction:
    now = timezone.now()
    return Prediction(model=version.model, version=version, version_ref=version.id,
                      created_by=user, input={"text": "x"}, created_at=now)  # fmt: skip


def _counts(version: Version) -> tuple[int, int, int]:
    model = MLModel.objects.get(pk=version.model_id)
    days = ModelRunDay.objects.filter(model=model).aggregate(n=Sum("runs"))["n"] or 0
    searched = SearchDocument.objects.get(model=model).run_count
    return model.run_count, days, searched


def test_the_one_statement_create_writes_the_run_only_with_a_slot(
    hello_version: Any, auth_api: Any, user: Any
) -> None:
    from registry import predictions

    body = {"version": hello_version.id, "input": {"text": "x"}}
    auth_api.post("/v1/predictions", body, format="json", HTTP_PREFER="wait")  # warm
    instance = Instance.objects.get(version_id=hello_version.pk, status="ready")
    before = _counts(hello_version)

    Instance.objects.filter(pk=instance.pk).update(busy=F("concurrency"))
    refused = _unsaved_run(hello_version, user)
    assert predictions._create_on_a_free_slot(refused) is None
    assert not Prediction.objects.filter(pk=refused.pk).exists()
    assert _counts(hello_version) == before  # nothing counted for a run not written
    Instance.objects.filter(pk=instance.pk).update(busy=0)

    run = _unsaved_run(hello_version, user)
    lease = predictions._create_on_a_free_slot(run)
    assert lease is not None and lease.instance.pk == instance.pk
    assert Instance.objects.get(pk=instance.pk).busy == 1
    stored = Prediction.objects.get(pk=run.pk)
    assert (stored.status, stored.input, stored.dispatch_attempts) == ("starting", {"text": "x"}, 1)
    assert stored.dispatch_claimed_at is not None and stored.dispatch_queued_at is None
    assert _counts(hello_version) == tuple(n + 1 for n in before)
    assert not run._state.adding


def test_a_fast_answer_starts_a_handoff_pass_only_when_runs_wait(
    hello_version: Any, auth_api: Any, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry import handoff

    body = {"version": hello_version.id, "input": {"text": "x"}}
    for _ in range(3):
        auth_api.post("/v1/predictions", body, format="json", HTTP_PREFER="wait")
    kicks: list[int | None] = []
    monkeypatch.setattr(handoff, "kick", lambda version_id, freed=None: kicks.append(freed))
    answer = auth_api.post("/v1/predictions", body, format="json", HTTP_PREFER="wait").json()
    assert answer["status"] == "succeeded" and kicks == []  # nobody to hand the slot to

    _unsaved_run(hello_version, user).save()  # waits: not claimed, not dispatched
    answer = auth_api.post("/v1/predictions", body, format="json", HTTP_PREFER="wait").json()
    assert answer["status"] == "succeeded"
    assert kicks == [Prediction.objects.get(pk=answer["id"]).instance_id]
