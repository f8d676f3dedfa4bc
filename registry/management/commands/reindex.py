"""`python manage.py reindex`: rebuild search from the database, with progress.

First the search documents (what the database backend reads and every other backend is
filled from), then, for an external backend such as Meilisearch, a fresh index that is
swapped in when complete. Safe to run while the site serves searches.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.module_loading import import_string

from registry import backends
from registry.models import SearchDocument, SearchSyncPending
from registry.search import documents, sync
from registry.search.base import SearchBackend, SearchUnavailable


class Command(BaseCommand):
    help = "Rebuild the search documents and the search backend's index from the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--backend",
            help="A backend name (database, meilisearch) or dotted path; default SEARCH_BACKEND.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        backend = self._backend(options.get("backend"))
        started = timezone.now()
        self.stdout.write("Search documents:")
        count = documents.rebuild_all(progress=self._progress("documents"))
        self.stdout.write(f"  {count} documents, vocabulary rebuilt.")
        if not backend.external:
            self.stdout.write(self.style.SUCCESS(f"Search ready ({backend.name})."))
            return
        self.stdout.write(f"{backend.name} index:")
        rows = SearchDocument.objects.order_by("pk").iterator(chunk_size=1000)
        try:
            backend.rebuild(rows, total=count, progress=self._progress(backend.name))
            # Everything queued before the rebuild read the documents is in the new index.
            SearchSyncPending.objects.filter(queued_at__lte=started).delete()
            pushed = sync.sync_pending(backend)
        except SearchUnavailable as e:
            raise CommandError(f"{backend.name} is unavailable: {e}") from e
        self.stdout.write(
            self.style.SUCCESS(
                f"Search ready ({backend.name}, {count} documents, {pushed} changes since)."
            )
        )

    def _backend(self, choice: str | None) -> SearchBackend:
        if not choice:
            backend: SearchBackend = backends.search_backend()
            return backend
        path = backends.resolve(choice, settings.SEARCH_BACKENDS)
        try:
            instance = import_string(path)()
        except ImportError as e:
            raise CommandError(f"Unknown search backend {choice!r}.") from e
        if not isinstance(instance, SearchBackend):
            raise CommandError(f"{choice!r} is not a search backend.")
        return instance

    def _progress(self, label: str) -> Any:
        def report(done: int, total: int) -> None:
            self.stdout.write(f"  {label}: {done}/{total}")

        return report
