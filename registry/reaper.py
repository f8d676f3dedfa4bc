"""The reaper: nothing accepted stays unfinished forever.

Run periodically by every task worker (`manage.py runworker`). Each rule is idempotent and
safe to run from several workers at once. Search changes left queued while the external
index was down are pushed here too, so it catches up without waiting for the next change.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from registry import builds, predictions
from registry.inference.base import recount_busy
from registry.models import Build, Instance, Prediction
from registry.search import sync

logger = logging.getLogger(__name__)


def reap() -> dict[str, int]:
    counts = {
        "slots_recounted": recount_busy(),
        "redispatched": requeue_undispatched(),
        "lost_instance": fail_on_dead_instances(),
        "timed_out": fail_silent_predictions(),
        "past_deadline": cancel_past_deadline(),
        "stale_builds": fail_stale_builds(),
        "search_caught_up": sync.catch_up(),
    }
    if any(counts.values()):
        logger.info("Reaper: %s", counts)
    return counts


def requeue_undispatched() -> int:
    """Accepted but never sent (the dispatcher died or its task was lost): queue again."""
    stale = timezone.now() - timedelta(seconds=settings.VITRINE_DISPATCH_CLAIM_SECONDS)
    # A live dispatch chain re-queues itself every few seconds and refreshes
    # dispatch_queued_at; only predictions whose chain went quiet are picked up.
    waiting = Prediction.objects.filter(
        Q(dispatch_claimed_at__isnull=True) | Q(dispatch_claimed_at__lt=stale),
        Q(dispatch_queued_at__isnull=True) | Q(dispatch_queued_at__lt=stale),
        status=Prediction.Status.STARTING,
        dispatched_at__isnull=True,
        created_at__lt=stale,
    ).values_list("pk", flat=True)[:500]
    for prediction_id in waiting:
        predictions.queue_dispatch(prediction_id)
    return len(waiting)


def fail_on_dead_instances() -> int:
    dead = Instance.objects.filter(status__in=(Instance.Status.FAILED, Instance.Status.STOPPED))
    count = 0
    for instance in dead.filter(predictions__status__in=predictions.ACTIVE).distinct():
        reason = instance.error or "The model process is gone."
        count += predictions.fail_on_instance(instance_id=instance.pk, reason=reason)
    return count


def fail_silent_predictions() -> int:
    cutoff = timezone.now() - timedelta(seconds=settings.VITRINE_PREDICTION_TIMEOUT)
    silent = Prediction.objects.filter(
        Q(last_event_at__lt=cutoff) | Q(last_event_at__isnull=True),
        status__in=predictions.ACTIVE,
        dispatched_at__lt=cutoff,
    ).values_list("pk", flat=True)
    minutes = settings.VITRINE_PREDICTION_TIMEOUT // 60
    return sum(
        predictions.finish(pk, "failed", error=f"No word from the model for {minutes} minutes.")
        for pk in silent
    )


def cancel_past_deadline() -> int:
    overdue = Prediction.objects.filter(
        status__in=predictions.ACTIVE, deadline__lt=timezone.now()
    ).values_list("pk", flat=True)
    for prediction_id in overdue:
        predictions.cancel(prediction_id)
    return len(overdue)


def fail_stale_builds() -> int:
    cutoff = timezone.now() - timedelta(seconds=settings.VITRINE_BUILD_STALE_SECONDS)
    stale = Build.objects.filter(
        status=Build.Status.PROCESSING, heartbeat_at__lt=cutoff
    ).values_list("pk", flat=True)
    return sum(
        builds.fail_stale(build_id=pk, reason="The worker building this version stopped.")
        for pk in stale
    )
