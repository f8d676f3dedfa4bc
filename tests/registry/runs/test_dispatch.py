"""How accepted runs reach a slot: stored with their task, handed a freed slot oldest
first, and counted exactly however many arrive at once (real coglet processes)."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.db import transaction
from django.db.models import Sum

from registry import handoff, predictions
from registry.models import Instance, MLModel, ModelRunDay, Prediction
from tests import processes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.cog]


def _finished(ids: list[str], timeout: float = 90) -> dict[str, Prediction]:
    processes.wait_for(
        lambda: all(p.is_terminal for p in Prediction.objects.filter(pk__in=ids)),
        timeout=timeout,
    )
    return {p.pk: p for p in Prediction.objects.filter(pk__in=ids)}


def test_a_freed_slot_goes_to_the_oldest_waiting_run_at_once(
    hello_version: Any, replicate_client: Any, settings: Any
) -> None:
    settings.VITRINE_MAX_INSTANCES_PER_VERSION = 1
    replicate_client.run(f"alice/hello:{hello_version.id}", input={"text": "warm"})
    busy = replicate_client.predictions.create(
        version=hello_version.id, input={"text": "busy", "sleep": 1}
    )
    queued = [
        replicate_client.predictions.create(version=hello_version.id, input={"text": str(i)})
        for i in range(4)
    ]
    done = _finished([busy.id, *(p.id for p in queued)])
    order = [done[busy.id], *(done[p.id] for p in queued)]
    assert [p.status for p in order] == ["succeeded"] * 5
    assert [p.output for p in order[1:]] == ["hello 0", "hello 1", "hello 2", "hello 3"]
    for previous, following in itertools.pairwise(order):
        # In creation order, each sent as soon as the one before it gave the slot back
        # (its task would only have polled again 0.4 s to 3 s later).
        assert previous.completed_at <= following.dispatched_at
        assert following.dispatched_at - previous.completed_at < timedelta(seconds=0.35)
    assert Instance.objects.get(version=hello_version).busy == 0


def test_dispatch_waiting_sends_nothing_without_a_free_slot(
    hello_version: Any, replicate_client: Any, settings: Any
) -> None:
    settings.VITRINE_MAX_INSTANCES_PER_VERSION = 1
    busy = replicate_client.predictions.create(
        version=hello_version.id, input={"text": "busy", "sleep": 1}
    )
    processes.wait_for(lambda: Prediction.objects.get(pk=busy.id).status == "processing")
    handoff.idle()
    waiting = replicate_client.predictions.create(version=hello_version.id, input={"text": "w"})
    handoff.idle()
    assert predictions.dispatch_waiting(hello_version.id) == 0
    row = Prediction.objects.get(pk=waiting.id)
    assert (row.status, row.dispatched_at) == ("starting", None)
    assert _finished([waiting.id])[waiting.id].output == "hello w"


def test_a_run_and_its_count_are_stored_together_or_not_at_all(
    hello_version: Any, user: Any
) -> None:
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        predictions.prediction_create(actor=user, version=hello_version, input={"text": "x"})
        raise Abort
    assert not Prediction.objects.exists()
    assert MLModel.objects.get(pk=hello_version.model_id).run_count == 0
    assert not ModelRunDay.objects.exists()


def test_concurrent_creates_are_all_counted_and_all_run(
    hello_version: Any, token: str, cog_live: Any
) -> None:
    created: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(
            base_url=cog_live.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            for i in range(5):
                answer = http.post(
                    "/v1/predictions",
                    json={"version": hello_version.id, "input": {"text": str(i)}},
                )
                with lock:
                    if answer.status_code == 201:
                        created.append(answer.json()["id"])
                    else:
                        failures.append(answer.text)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(created) == 40
    model = MLModel.objects.get(pk=hello_version.model_id)
    assert model.run_count == 40
    assert ModelRunDay.objects.filter(model=model).aggregate(n=Sum("runs"))["n"] == 40
    done = _finished(created)
    assert sorted(p.status for p in done.values()) == ["succeeded"] * 40
    assert Instance.objects.get(version=hello_version).busy == 0
