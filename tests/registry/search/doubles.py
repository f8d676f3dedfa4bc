"""Test doubles for search. No Meilisearch server can run where the suite runs, so these
stand in for it; the real one is exercised by the tests marked `meilisearch`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from meilisearch.errors import MeilisearchCommunicationError

from registry.backends import Health
from registry.models import SearchDocument
from registry.search.base import SearchBackend, SearchHits, SearchQuery, SearchUnavailable
from registry.search.database import DatabaseSearchBackend


class RecordingBackend(SearchBackend):
    """TEST DOUBLE: an external backend that records what it is sent and answers
    searches from the database, or fails on demand."""

    name = "recording"
    external = True

    def __init__(self) -> None:
        self.indexed: list[int] = []
        self.removed: list[int] = []
        self.failing = False

    def query(self, query: SearchQuery) -> SearchHits:
        if self.failing:
            raise SearchUnavailable("recording backend told to fail")
        return DatabaseSearchBackend().query(query)

    def health(self) -> Health:
        if self.failing:
            return Health("down", "told to fail")
        return Health("ok", info={"backend": self.name})

    def index_documents(self, documents: Iterable[SearchDocument]) -> None:
        rows = list(documents)
        if self.failing:
            raise SearchUnavailable("recording backend told to fail")
        self.indexed += [row.pk for row in rows]

    def remove_models(self, model_ids: Iterable[int]) -> None:
        ids = list(model_ids)
        if self.failing:
            raise SearchUnavailable("recording backend told to fail")
        self.removed += ids


@dataclass
class FakeTaskInfo:
    task_uid: int


@dataclass
class FakeTask:
    uid: int
    status: str = "succeeded"
    error: Any = None


@dataclass
class FakeStats:
    number_of_documents: int


class RecordingIndex:
    def __init__(self, client: RecordingMeiliClient, uid: str) -> None:
        self.client = client
        self.uid = uid

    def _record(self, name: str, *args: Any, **kwargs: Any) -> FakeTaskInfo:
        return self.client.record(f"index({self.uid}).{name}", *args, **kwargs)

    def add_documents(self, documents: list[dict[str, Any]], primary_key: str | None = None) -> Any:
        self.client.documents.setdefault(self.uid, {}).update({d["id"]: d for d in documents})
        return self._record("add_documents", documents, primary_key=primary_key)

    def delete_documents(self, ids: Any = None, *, filter: Any = None) -> Any:
        return self._record("delete_documents", ids, filter=filter)

    def update_settings(self, body: dict[str, Any]) -> Any:
        return self._record("update_settings", body)

    def get_stats(self) -> FakeStats:
        self.client.record(f"index({self.uid}).get_stats")
        return FakeStats(len(self.client.documents.get(self.uid, {})))


@dataclass
class RecordingMeiliClient:
    """TEST DOUBLE for `meilisearch.Client`: records every call in `calls` and answers
    `multi_search` with the `responses` queued by the test (or empty results). With
    `down` set, every call fails the way the real client does when the server is gone."""

    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    indexes: set[str] = field(default_factory=set)
    documents: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    down: bool = False
    next_task: int = 0

    def record(self, name: str, *args: Any, **kwargs: Any) -> FakeTaskInfo:
        if self.down:
            raise MeilisearchCommunicationError("Connection refused")
        self.calls.append((name, args, kwargs))
        self.next_task += 1
        return FakeTaskInfo(self.next_task)

    def names(self) -> list[str]:
        return [name for name, _, _ in self.calls]

    def index(self, uid: str) -> RecordingIndex:
        return RecordingIndex(self, uid)

    def health(self) -> dict[str, str]:
        self.record("health")
        return {"status": "available"}

    def get_raw_indexes(self, parameters: Any = None) -> list[dict[str, Any]]:
        self.record("get_raw_indexes", parameters)
        return [{"uid": uid} for uid in sorted(self.indexes)]

    def create_index(self, uid: str, options: Any = None) -> FakeTaskInfo:
        info = self.record("create_index", uid, options)
        self.indexes.add(uid)
        return info

    def delete_index(self, uid: str) -> FakeTaskInfo:
        info = self.record("delete_index", uid)
        self.indexes.discard(uid)
        return info

    def swap_indexes(self, parameters: list[dict[str, Any]]) -> FakeTaskInfo:
        info = self.record("swap_indexes", parameters)
        first, second = parameters[0]["indexes"]
        docs = self.documents
        docs[first], docs[second] = docs.get(second, {}), docs.get(first, {})
        return info

    def wait_for_task(self, uid: int, timeout_in_ms: int = 5000) -> FakeTask:
        self.record("wait_for_task", uid)
        return FakeTask(uid)

    def multi_search(self, queries: list[dict[str, Any]]) -> dict[str, Any]:
        self.record("multi_search", queries)
        results = []
        for query in queries:
            if self.responses:
                results.append(self.responses.pop(0))
            else:
                results.append({"hits": [], "estimatedTotalHits": 0, "indexUid": query["indexUid"]})
        return {"results": results}
