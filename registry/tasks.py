"""Background work, run by the task worker (`manage.py runworker`) through the Django
tasks API. Task bodies stay small: the logic lives in the service modules."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from django.db import close_old_connections, transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task


def enqueue_later(task_: Task[Any, Any], delay: float, *args: Any) -> None:
    """Enqueue after `delay` seconds. Backends that cannot defer (the immediate backend of
    tests and debugging) get it from a timer thread, so the caller is never held up."""
    backend = task_.get_backend()
    if delay <= 0:
        task_.enqueue(*args)
    elif backend.supports_defer:
        task_.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(*args)
    else:
        threading.Timer(delay, _enqueue_in_thread, args=(task_, args)).start()


def enqueue_with_transaction(task_: Task[Any, Any], *args: Any) -> None:
    """Enqueue as part of the current transaction when tasks live in the same database
    (the task exists exactly when the rows it works on do, at no extra commit); after
    commit otherwise (a backend that runs tasks at once must see the committed rows)."""
    from django_tasks_db import DatabaseBackend

    if isinstance(task_.get_backend(), DatabaseBackend):
        task_.enqueue(*args)
    else:
        transaction.on_commit(lambda: task_.enqueue(*args))


def _enqueue_in_thread(task_: Task[Any, Any], args: tuple[Any, ...]) -> None:
    try:
        task_.enqueue(*args)
    finally:
        close_old_connections()


@task(queue_name="predictions")
def dispatch_prediction(prediction_id: str) -> str:
    from registry import predictions

    return predictions.dispatch_or_requeue(prediction_id)


@task(queue_name="builds")
def run_build(build_id: str) -> None:
    from registry import builds

    builds.build_run(build_id=build_id)


@task(queue_name="builds")
def run_demo_examples(model_id: int, folder: str, source_sha256: str) -> str:
    from registry import demo

    return demo.run_examples(model_id=model_id, folder=folder, source_sha256=source_sha256)


@task(queue_name="webhooks")
def deliver_webhook(prediction_id: str, event: str, message_id: str, attempt: int = 0) -> str:
    from registry import webhooks

    return webhooks.deliver(
        prediction_id=prediction_id, event=event, message_id=message_id, attempt=attempt
    )
