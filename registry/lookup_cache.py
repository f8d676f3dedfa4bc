"""Schema lookups of public models, answered from memory (PostgreSQL).

`GET /v1/models/{owner}/{name}/versions/{id}` is what every client does before it runs
anything, and its answer almost never changes: a published version cannot be altered
(migration 0002), so what can go stale is only whether the version may still be seen at
that address — its model's visibility and name, its owner's name, whether it still exists.
Database triggers announce exactly those changes (`NOTIFY vitrine_catalog`, migration
0012), however they are made, and every process that caches empties its cache when its
change listener (`registry.events`) hears one.

The rules that keep an answer from outliving what it answered:
- only public models' documents are kept: the same for every caller;
- nothing is read or kept unless the listener is connected (else a change could go
  unheard), nor inside a transaction (which can see its own changes before they are
  announced, at commit);
- a document is kept only if no change was heard, and the listener did not hang up,
  between the moment before it was read and the moment it is kept (`ticket`);
- when the listener hangs up, the cache is emptied.

So another process sees a change as soon as PostgreSQL delivers the NOTIFY (about a
millisecond after commit); until then it answers as a request that began before the
commit would have. `VITRINE_LOOKUP_CACHE_MB` bounds each process's cache (0 turns it off).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection

from registry import events

if TYPE_CHECKING:
    from registry.selectors import VersionDocument

Key = tuple[str, str, str]  # owner, model name, version id, as in the URL


class LookupCache:
    """Least recently used documents, bounded by the size of their schema text."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._documents: OrderedDict[Key, VersionDocument] = OrderedDict()
        self._bytes = 0
        self._generation = 0  # moves on every change heard, and on every hang-up
        self._following = False

    def ticket(self) -> int | None:
        """Taken before reading the database: None when the cache may not be used now,
        else what `put` checks to know that nothing changed since."""
        if self.max_bytes <= 0 or connection.vendor != "postgresql":
            return None
        if connection.in_atomic_block:
            return None
        if not self._following:
            self._following = True
            events.follow_catalog(self.clear)
        if not events.hearing_catalog():
            return None
        return self._generation

    def get(self, key: Key) -> VersionDocument | None:
        with self._lock:
            document = self._documents.get(key)
            if document is not None:
                self._documents.move_to_end(key)
            return document

    def put(self, key: Key, document: VersionDocument, ticket: int) -> None:
        size = _size(key, document)
        if size > self.max_bytes:
            return
        with self._lock:
            if ticket != self._generation or not events.hearing_catalog():
                return  # something changed, or may have gone unheard, since it was read
            previous = self._documents.pop(key, None)
            if previous is not None:
                self._bytes -= _size(key, previous)
            self._documents[key] = document
            self._bytes += size
            while self._bytes > self.max_bytes:
                old_key, old = self._documents.popitem(last=False)
                self._bytes -= _size(old_key, old)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._documents.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._documents)


def _size(key: Key, document: VersionDocument) -> int:
    return len(document.schema_json) + sum(map(len, key))


cache = LookupCache(settings.VITRINE_LOOKUP_CACHE_MB * 1024 * 1024)
