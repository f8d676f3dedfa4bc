"""The local backend's processes: started on demand, kept warm, stopped when idle, capped
per host and per version, and several runs at once where cog.yaml allows it."""

from __future__ import annotations

import time
from typing import Any

import pytest

from registry.inference.local import pid_alive
from registry.models import Instance, Prediction
from tests import processes
from tests.conftest import publish
from tests.factories import ModelFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.cog]


def _finished(*predictions: Any, timeout: float = 60) -> list[Prediction]:
    ids = [p.id for p in predictions]
    processes.wait_for(
        lambda: all(p.is_terminal for p in Prediction.objects.filter(pk__in=ids)),
        timeout=timeout,
    )
    found = {p.pk: p for p in Prediction.objects.filter(pk__in=ids)}
    return [found[i] for i in ids]


def _overlap(a: Prediction, b: Prediction) -> bool:
    return a.started_at < b.completed_at and b.started_at < a.completed_at


def test_an_idle_instance_is_stopped_and_started_again_on_demand(
    hello_version: Any, replicate_client: Any, settings: Any
) -> None:
    settings.VITRINE_INSTANCE_IDLE_SECONDS = 1
    replicate_client.run(f"alice/hello:{hello_version.id}", input={"text": "first"})
    instance = Instance.objects.get(version=hello_version)
    processes.wait_for(lambda: Instance.objects.get(pk=instance.pk).status == "stopped", timeout=10)
    assert Instance.objects.get(pk=instance.pk).error == "Stopped after being idle."
    processes.wait_for(lambda: not pid_alive(instance.pid), timeout=10)
    assert replicate_client.run(f"alice/hello:{hello_version.id}", input={"text": "again"}) == (
        "hello again"
    )
    assert Instance.objects.filter(version=hello_version, status="ready").count() == 1


def test_at_most_n_processes_run_and_an_idle_one_makes_room(
    cog_live: Any, user: Any, replicate_client: Any, settings: Any
) -> None:
    settings.VITRINE_MAX_INSTANCES = 1
    hello = publish(ModelFactory(owner=user.owner, name="hello"), "hello", user)
    stream = publish(ModelFactory(owner=user.owner, name="stream"), "stream", user)
    replicate_client.run(f"alice/hello:{hello.id}", input={"text": "one"})
    first = Instance.objects.get(version=hello)
    output = replicate_client.run(f"alice/stream:{stream.id}", input={"words": 2, "delay": 0})
    assert list(output) == ["word0 ", "word1 "]
    first.refresh_from_db()
    assert first.status == "stopped"
    assert first.error == "Stopped to make room for another model."
    running = Instance.objects.filter(status__in=("starting", "ready"))
    assert list(running.values_list("version_id", flat=True)) == [stream.id]


def test_a_busy_version_queues_its_runs_instead_of_failing_them(
    hello_version: Any, replicate_client: Any, settings: Any
) -> None:
    settings.VITRINE_MAX_INSTANCES_PER_VERSION = 1
    first = replicate_client.predictions.create(
        version=hello_version.id, input={"text": "a", "sleep": 1.5}
    )
    second = replicate_client.predictions.create(
        version=hello_version.id, input={"text": "b", "sleep": 0.5}
    )
    a, b = _finished(first, second)
    assert (a.status, b.status) == ("succeeded", "succeeded")
    assert not _overlap(a, b)  # one slot: the second waited its turn
    assert Instance.objects.filter(version=hello_version).count() == 1


def test_several_processes_can_serve_one_version(
    hello_version: Any, replicate_client: Any, settings: Any
) -> None:
    settings.VITRINE_MAX_INSTANCES_PER_VERSION = 2
    replicate_client.run(f"alice/hello:{hello_version.id}", input={"text": "warm"})
    first = replicate_client.predictions.create(
        version=hello_version.id, input={"text": "a", "sleep": 3}
    )
    time.sleep(0.3)
    second = replicate_client.predictions.create(
        version=hello_version.id, input={"text": "b", "sleep": 3}
    )
    a, b = _finished(first, second)
    assert (a.output, b.output) == ("hello a", "hello b")
    assert a.instance_id != b.instance_id
    assert _overlap(a, b)
    assert Instance.objects.filter(version=hello_version, status="ready").count() == 2


def test_concurrency_max_lets_one_process_run_several_at_once(
    cog_live: Any, user: Any, replicate_client: Any
) -> None:
    version = publish(ModelFactory(owner=user.owner, name="concurrent"), "concurrent", user)
    replicate_client.run(f"alice/concurrent:{version.id}", input={"text": "warm"})
    runs = [
        replicate_client.predictions.create(version=version.id, input={"text": str(i), "sleep": 2})
        for i in range(3)
    ]
    done = _finished(*runs)
    assert [p.output for p in done] == ["done 0", "done 1", "done 2"]
    assert len({p.instance_id for p in done}) == 1
    assert _overlap(done[0], done[1]) and _overlap(done[1], done[2])
    assert Instance.objects.get(version=version).busy == 0  # every slot given back


def test_healthz_reports_the_running_processes(
    hello_version: Any, replicate_client: Any, cog_live: Any
) -> None:
    import httpx

    replicate_client.run(f"alice/hello:{hello_version.id}", input={"text": "x"})
    inference = httpx.get(f"{cog_live.url}/healthz").json()["checks"]["inference"]
    assert inference["status"] == "ok"
    assert inference["running_instances"] == 1
