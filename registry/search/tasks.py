"""Background work of search, on the `search` queue (run by any `db_worker`)."""

from __future__ import annotations

from django_tasks import task

from registry.search import sync


@task(queue_name="search")
def sync_search_index() -> int:
    """Push queued changes to the external index (Meilisearch); a no-op otherwise."""
    return sync.run_sync_now()


@task(queue_name="search")
def rebuild_search_vocabulary() -> int:
    """The correction vocabulary from public models only (after a model went private)."""
    from registry.search import documents

    return documents.rebuild_vocabulary()


@task(queue_name="search")
def refresh_search_popularity() -> int:
    """Recount recent runs and quality; queue changed models for the external index."""
    changed = sync.refresh_popularity()
    sync.run_sync_now()
    return changed
