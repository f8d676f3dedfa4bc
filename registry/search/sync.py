"""Keeping search in step with the registry: the hooks writers call, and what tasks run.

- `index_model(model_id)` after any change to what search shows of a model (its fields,
  tags, collections, visibility, latest version). The database row is rebuilt at once,
  in the caller's transaction, so the database backend (and the fallback) is never
  stale and a rolled-back change leaves no trace; an external index (Meilisearch) gets
  the change from the `search` task after commit, never inside the request.
- `model_removed(model_id)` after a model is deleted (a signal calls it).
- `record_run(model_id)` for every run counted (`services.model_increment_run_count`
  calls it): runs per day for "trending", and live counters on the row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from registry import backends
from registry.models import MLModel, ModelRunDay, SearchDocument, SearchSyncPending
from registry.search import documents, ranking
from registry.search.base import SearchBackend, SearchUnavailable

logger = logging.getLogger(__name__)

SYNC_BATCH = 500
KEEP_RUN_DAYS = 35


def index_model(model_id: int) -> None:
    index_models([model_id])


def index_models(model_ids: Iterable[int]) -> None:
    ids = sorted(set(model_ids))
    if not ids:
        return
    documents.refresh(ids)
    _queue_external(ids)


def model_removed(model_id: int) -> None:
    _queue_external([model_id])


def _queue_external(ids: list[int]) -> None:
    if not backends.search_backend().external:
        return
    now = timezone.now()
    SearchSyncPending.objects.bulk_create(
        [SearchSyncPending(model_id=i, queued_at=now) for i in ids],
        update_conflicts=True,
        unique_fields=["model_id"],
        update_fields=["queued_at"],
    )
    transaction.on_commit(_enqueue_sync, robust=True)


def _enqueue_sync() -> None:
    from registry.search.tasks import sync_search_index

    sync_search_index.enqueue()


def sync_pending(backend: SearchBackend | None = None) -> int:
    """Push queued models to the external index; rows stay queued if it is unreachable.

    Returns how many models were brought up to date.
    """
    backend = backend or backends.search_backend()
    if not backend.external:
        SearchSyncPending.objects.all().delete()
        return 0
    done = 0
    while True:
        batch = list(
            SearchSyncPending.objects.order_by("queued_at", "model_id").values_list(
                "model_id", "queued_at"
            )[:SYNC_BATCH]
        )
        if not batch:
            return done
        ids = [model_id for model_id, _ in batch]
        rows = list(SearchDocument.objects.filter(pk__in=ids))
        present = {row.pk for row in rows}
        backend.index_documents(rows)
        backend.remove_models([i for i in ids if i not in present])
        # A model queued again while we pushed keeps its newer row.
        for model_id, queued_at in batch:
            SearchSyncPending.objects.filter(model_id=model_id, queued_at__lte=queued_at).delete()
        done += len(ids)


def record_run(model_id: int, *, when: Any = None, with_model: bool = False) -> None:
    """Count one run of a model for search: per day (for trending) and on its search row;
    with `with_model`, on the model's own `run_count` too.

    Every run of a model updates these same rows, and they stay locked until the run's
    transaction commits, so concurrent runs of one model queue here. Call it last in the
    transaction: on PostgreSQL the counters are one statement (one round trip, nothing
    between taking the locks and the commit); the cache calls come before it."""
    statements = run_counters(model_id, when=when, with_model=with_model)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Data-modifying CTEs all run, to completion, whatever the main query reads.
            ctes = ", ".join(f"c{i} AS ({sql})" for i, (sql, _) in enumerate(statements))
            cursor.execute(f"WITH {ctes} SELECT 1", [p for _, ps in statements for p in ps])
        else:
            for sql, params in statements:
                cursor.execute(sql, params)


def run_counters(
    model_id: int, *, when: Any = None, with_model: bool = False, if_any: str = ""
) -> list[tuple[str, list[Any]]]:
    """`record_run`'s statements, to run in this order or as CTEs of one statement. With
    `if_any` (PostgreSQL; the name of a CTE of that statement), each counts only if that
    CTE returns a row."""
    schedule_popularity_refresh()
    day = (when or timezone.now()).date()
    quote = connection.ops.quote_name
    days = quote(ModelRunDay._meta.db_table)
    gate = f" AND EXISTS (SELECT 1 FROM {quote(if_any)})" if if_any else ""  # noqa: S608
    values = f"SELECT %s, %s, 1 WHERE TRUE{gate}" if if_any else "VALUES (%s, %s, 1)"
    statements: list[tuple[str, list[Any]]] = [
        (
            f"INSERT INTO {days} (model_id, day, runs) {values} "
            f"ON CONFLICT (model_id, day) DO UPDATE SET runs = {days}.runs + 1",
            [model_id, day],
        ),
        (
            f"UPDATE {quote(SearchDocument._meta.db_table)} "  # noqa: S608
            "SET run_count = run_count + 1, runs_7d = runs_7d + 1 "
            f"WHERE {quote(SearchDocument._meta.pk.column)} = %s{gate}",
            [model_id],
        ),
    ]
    if with_model:
        statements.append(
            (
                f"UPDATE {quote(MLModel._meta.db_table)} "  # noqa: S608
                f"SET run_count = run_count + 1 WHERE {quote(MLModel._meta.pk.column)} = %s"
                f"{gate}",
                [model_id],
            )
        )
    return statements


# When this process last asked the cache: the day (for the daily refresh) and the
# monotonic time (for the one as runs come in). Searches and runs call
# schedule_popularity_refresh every time; the cache (a file, by default) is asked only
# when the answer could be yes.
_asked_on = ""
_asked_at = float("-inf")


def schedule_popularity_refresh(*, daily_only: bool = False) -> None:
    """Ask for `refresh_popularity` at least once a day (so that old runs leave the
    7-day window and freshness ages) and, as runs come in, at most once per
    SEARCH_POPULARITY_REFRESH_SECONDS. Per cache: once per process with the default
    file or in-memory cache, once overall with Redis."""
    global _asked_on, _asked_at
    today = timezone.now().date().isoformat()
    now = time.monotonic()
    every = int(getattr(settings, "SEARCH_POPULARITY_REFRESH_SECONDS", 600))
    due = False
    if _asked_on != today:
        _asked_on = today
        due = cache.add(f"vitrine:search:popularity:{today}", 1, timeout=86400)
    if not daily_only and now - _asked_at >= every:
        _asked_at = now
        due = cache.add("vitrine:search:popularity", 1, timeout=every) or due
    if due:
        transaction.on_commit(_enqueue_popularity, robust=True)


def _enqueue_popularity() -> None:
    from registry.search.tasks import refresh_search_popularity

    refresh_search_popularity.enqueue()


def refresh_popularity(*, today: date | None = None) -> int:
    """Recount runs in the last 7 days, copy run counts, recompute quality (freshness
    ages daily); queue changed models for the external index. Returns how many changed."""
    today = today or timezone.now().date()
    since = today - timedelta(days=6)
    recent = (
        ModelRunDay.objects.filter(model_id=OuterRef("model_id"), day__gte=since)
        .values("model_id")
        .annotate(total=Sum("runs"))
        .values("total")
    )
    runs = MLModel.objects.filter(pk=OuterRef("model_id")).values("run_count")
    now = timezone.now()
    changed: list[SearchDocument] = []
    rows = SearchDocument.objects.annotate(
        new_7d=Coalesce(Subquery(recent), Value(0)), new_runs=Subquery(runs)
    ).only("model_id", "run_count", "runs_7d", "quality", "updated_at")
    for row in rows.iterator(chunk_size=2000):
        new_7d, new_runs = int(row.new_7d), int(row.new_runs or 0)
        quality = ranking.quality(
            run_count=new_runs, runs_7d=new_7d, updated_at=row.updated_at, now=now
        )
        if (row.runs_7d, row.run_count) != (new_7d, new_runs) or abs(row.quality - quality) > 1e-4:
            row.runs_7d, row.run_count, row.quality = new_7d, new_runs, quality
            changed.append(row)
    SearchDocument.objects.bulk_update(
        changed, ["runs_7d", "run_count", "quality"], batch_size=1000
    )
    ModelRunDay.objects.filter(day__lt=today - timedelta(days=KEEP_RUN_DAYS)).delete()
    if changed:
        _queue_external([row.pk for row in changed])
    return len(changed)


def catch_up() -> int:
    """Push changes still queued for the external index: made while it was down (the
    task that was to push them found it unreachable), or whose task was lost. The reaper
    runs this; a cheap no-op when nothing is queued."""
    backend = backends.search_backend()
    if not backend.external or not SearchSyncPending.objects.exists():
        return 0
    return run_sync_now(backend)


def run_sync_now(backend: SearchBackend | None = None) -> int:
    """`sync_pending`, logging instead of raising when the index is unreachable."""
    try:
        return sync_pending(backend)
    except SearchUnavailable as e:
        logger.warning("Search index unreachable, changes stay queued: %s", e)
        return 0
