"""The fast path (a short model, `Prefer: wait`) pays for as few commits as it can: the
answer, the freed slot, the learned run time and the change notification are one
transaction, since each commit of its own is a flush of PostgreSQL's log."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="counts PostgreSQL's commits"),
]


def test_a_fast_run_records_its_answer_in_one_transaction(
    hello_version: Any, auth_api: Any
) -> None:
    body = {"version": hello_version.id, "input": {"text": "x"}}
    for _ in range(3):  # warm: started, and its run time learned (so the fast path applies)
        auth_api.post("/v1/predictions", body, format="json", HTTP_PREFER="wait")
    with CaptureQueriesContext(connection) as captured:
        answer = auth_api.post("/v1/predictions", body, format="json", HTTP_PREFER="wait")
    assert answer.json()["status"] == "succeeded"
    sql = [q["sql"] for q in captured.captured_queries]
    recorded = next(i for i, s in enumerate(sql) if s.startswith('UPDATE "registry_prediction"'))
    notified = next(i for i, s in enumerate(sql) if "pg_notify" in s)
    opened = max(i for i, s in enumerate(sql[:recorded]) if s == "BEGIN")
    assert recorded < notified
    assert all(s != "COMMIT" for s in sql[opened:notified]), sql[opened:notified]
    assert any(s == "COMMIT" for s in sql[notified:]), sql[notified:]
    assert sum(s == "COMMIT" for s in sql) == 2  # the create, and the answer
