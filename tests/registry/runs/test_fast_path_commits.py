"""The fast path (a short model, `Prefer: wait`) pays for as few round trips as it can: on
PostgreSQL the answer, the freed slot, the learned run time and the change notification
are one statement, committed on its own, since each statement and each commit is a trip
to the database (and a commit a flush of its log)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import Instance, Prediction, Version

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
    recording = [s for s in sql if 'UPDATE "registry_prediction"' in s]
    assert len(recording) == 1, sql
    assert all(
        part in recording[0] for part in ("registry_instance", "registry_version", "pg_notify")
    )
    assert sum(s == "COMMIT" for s in sql) == 1, sql  # the create's; the answer commits alone
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
