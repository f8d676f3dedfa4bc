"""Nothing accepted is lost: real processes are killed mid-work, and every prediction and
build still ends in a terminal state with its input and logs kept."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
import replicate
from django.core.files.uploadedfile import SimpleUploadedFile

from registry import archives, builds
from registry.inference.local import pid_alive
from registry.models import Build, Instance, Prediction, Version
from tests import processes
from tests.conftest import COG_FIXTURES, publish
from tests.factories import ModelFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.cog]

DATABASE_TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "builds", "predictions", "webhooks", "search"],
    }
}


@pytest.fixture
def started(tmp_path: Path) -> Any:
    """Processes started by a test, stopped (or killed) at its end."""
    running: list[processes.Process] = []

    def start(process: processes.Process) -> processes.Process:
        running.append(process.start())
        return process

    yield start
    for process in running:
        process.stop()


def _wait_status(prediction_id: str, status: str, timeout: float = 30) -> Prediction:
    processes.wait_for(
        lambda: Prediction.objects.get(pk=prediction_id).status == status,
        timeout=timeout,
        message=f"prediction {prediction_id} never became {status}",
    )
    return Prediction.objects.get(pk=prediction_id)


def test_a_killed_cog_process_fails_its_prediction_and_the_next_run_gets_a_new_one(
    hello_version: Any, replicate_client: Any
) -> None:
    prediction = replicate_client.predictions.create(
        version=hello_version.id, input={"text": "doomed", "sleep": 30}
    )
    processes.wait_for(
        lambda: "still working" in Prediction.objects.get(pk=prediction.id).logs, timeout=15
    )
    instance = Instance.objects.get(version=hello_version, status="ready")
    os.killpg(instance.pid, signal.SIGKILL)

    failed = _wait_status(prediction.id, "failed", timeout=15)
    assert "stopped unexpectedly" in failed.error
    assert failed.input == {"text": "doomed", "sleep": 30}
    assert "greeting doomed" in failed.logs
    assert failed.completed_at is not None
    assert Instance.objects.get(pk=instance.pk).status == "failed"

    assert replicate_client.run(f"alice/hello:{hello_version.id}", input={"text": "next"}) == (
        "hello next"
    )
    replacement = Instance.objects.get(version=hello_version, status="ready")
    assert replacement.pk != instance.pk


def test_a_worker_killed_mid_build_leaves_a_failed_build_and_no_version(
    cog_live: Any, user: Any, settings: Any, started: Any, tmp_path: Path
) -> None:
    settings.TASKS = DATABASE_TASKS
    model = ModelFactory(owner=user.owner, name="slowpoke")
    archive = archives.pack(COG_FIXTURES / "slow-import")
    build = builds.build_create_from_archive(
        actor=user, model=model, upload=SimpleUploadedFile("p.tar.gz", archive)
    )
    env = processes.environment(cog_live.url, VITRINE_BUILD_STALE_SECONDS="2")
    first = started(processes.worker(env, tmp_path / "worker1.log"))
    processes.wait_for(
        lambda: "Reading the predictor" in Build.objects.get(pk=build.pk).logs,
        timeout=60,
        message=first.output(),
    )
    first.kill()

    started(processes.worker(env, tmp_path / "worker2.log"))
    processes.wait_for(lambda: Build.objects.get(pk=build.pk).status == "failed", timeout=30)
    failed = Build.objects.get(pk=build.pk)
    assert failed.error == "The worker building this version stopped."
    assert "Unpacked" in failed.logs  # the logs so far are kept
    assert not Version.objects.filter(model=model).exists()


def test_a_worker_killed_while_starting_a_model_hands_the_run_to_another(
    cog_live: Any,
    user: Any,
    replicate_client: Any,
    settings: Any,
    started: Any,
    tmp_path: Path,
) -> None:
    version = publish(ModelFactory(owner=user.owner, name="slow"), "slow-setup", user)
    settings.TASKS = DATABASE_TASKS
    env = processes.environment(
        cog_live.url, VITRINE_DISPATCH_CLAIM_SECONDS="2", VITRINE_ORPHAN_SECONDS="2"
    )
    first = started(processes.worker(env, tmp_path / "worker1.log"))
    prediction = replicate_client.predictions.create(
        version=version.id, input={"text": "still here"}
    )
    processes.wait_for(
        lambda: Instance.objects.filter(version=version, pid__isnull=False).exists(),
        timeout=30,
        message=first.output(),
    )
    first.kill()
    orphan = Instance.objects.get(version=version)
    assert orphan.status == "starting" and pid_alive(orphan.pid)

    started(processes.worker(env, tmp_path / "worker2.log"))
    done = _wait_status(prediction.id, "succeeded", timeout=40)
    assert done.output == "ready: still here"
    # The orphaned process was adopted, not replaced.
    assert list(Instance.objects.filter(version=version).values_list("pk", flat=True)) == [
        orphan.pk
    ]


def test_webhooks_land_after_the_web_process_restarts_mid_run(
    hello_version: Any, token: str, started: Any, tmp_path: Path
) -> None:
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    env = processes.environment(url)
    web = started(processes.web(port, env, tmp_path / "web1.log"))
    processes.wait_until_serving(url)
    started(processes.worker(env, tmp_path / "worker.log"))
    client = replicate.Client(api_token=token, base_url=url)
    prediction = client.predictions.create(
        version=hello_version.id, input={"text": "persistent", "sleep": 4}
    )
    _wait_status(prediction.id, "processing", timeout=30)

    web.kill()
    restarted = started(processes.web(port, env, tmp_path / "web2.log"))
    processes.wait_until_serving(url)

    done = _wait_status(prediction.id, "succeeded", timeout=40)
    assert done.output == "hello persistent"
    assert "still working" in done.logs
    assert client.predictions.get(prediction.id).output == "hello persistent"
    assert restarted.process is not None and restarted.process.poll() is None
