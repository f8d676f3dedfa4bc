"""Background work, run by the task worker (`manage.py runworker`) through the Django
tasks API. Task bodies stay small: the logic lives in the service modules."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task


def enqueue_later(task_: Task[Any, Any], delay: float, *args: Any) -> None:
    """Enqueue after `delay` seconds (backends that cannot defer wait here instead)."""
    backend = task_.get_backend()
    if delay > 0 and backend.supports_defer:
        task_.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(*args)
        return
    if delay > 0:
        time.sleep(delay)
    task_.enqueue(*args)


@task(queue_name="predictions")
def dispatch_prediction(prediction_id: str) -> str:
    from registry import predictions

    return predictions.dispatch_or_requeue(prediction_id)


@task(queue_name="builds")
def run_build(build_id: str) -> None:
    from registry import builds

    builds.build_run(build_id=build_id)


@task(queue_name="webhooks")
def deliver_webhook(prediction_id: str, event: str, message_id: str, attempt: int = 0) -> str:
    from registry import webhooks

    return webhooks.deliver(
        prediction_id=prediction_id, event=event, message_id=message_id, attempt=attempt
    )
