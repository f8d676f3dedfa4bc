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

    def get_raw_indexes(self, parameters: Any = None) -> dict[str, Any]:
        self.record("get_raw_indexes", parameters)
        # Meilisearch's shape, which the real client passes through.
        results = [{"uid": uid} for uid in sorted(self.indexes)]
        return {"results": results, "offset": 0, "limit": 1000, "total": len(results)}

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


class MeilisearchHttpDouble:
    """TEST DOUBLE: a Meilisearch server on loopback, over real HTTP, for the official
    `meilisearch` client. No Meilisearch can run where the suite runs; this serves the
    routes Vitrine uses (health, indexes, settings, documents, stats, tasks, swap,
    multi-search) with Meilisearch's JSON shapes, keeps documents in memory, and runs
    every task at once. Its search is deliberately plain — words as substrings of the
    searchable attributes, the filter forms `registry.search.meili` writes, facet
    counts — with no typo tolerance or ranking rules: enough to tell which index
    answered and what is in it, not to judge relevance.

    `stop()` closes the socket (clients get "connection refused", as when the server is
    gone); `start()` serves again on the same port with the same data."""

    def __init__(self) -> None:
        self.indexes: dict[str, dict[int, dict[str, Any]]] = {}
        self.settings: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        self._tasks: dict[int, dict[str, Any]] = {}
        self._server: Any = None
        self._thread: Any = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import threading
        from http.server import ThreadingHTTPServer

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def documents(self, uid: str) -> dict[int, dict[str, Any]]:
        return self.indexes.get(uid, {})

    # What the routes do ----------------------------------------------------------------

    def _task(self, kind: str, uid: str | None) -> tuple[int, dict[str, Any]]:
        number = len(self._tasks) + 1
        now = "2026-01-01T00:00:00.000000Z"
        task = {
            "uid": number,
            "indexUid": uid,
            "status": "succeeded",
            "type": kind,
            "enqueuedAt": now,
            "startedAt": now,
            "finishedAt": now,
        }
        self._tasks[number] = task
        return 202, {**task, "taskUid": number, "status": "enqueued"}

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        from urllib.parse import urlsplit

        route = urlsplit(path).path.strip("/").split("/")
        self.requests.append(f"{method} {urlsplit(path).path}")
        if route == ["health"]:
            return 200, {"status": "available"}
        if route[0] == "tasks" and len(route) == 2:
            task = self._tasks.get(int(route[1]))
            return (200, task) if task else (404, {"message": "task not found"})
        if route == ["indexes"] and method == "GET":
            results = [{"uid": uid, "primaryKey": "id"} for uid in sorted(self.indexes)]
            return 200, {"results": results, "offset": 0, "limit": 1000, "total": len(results)}
        if route == ["indexes"] and method == "POST":
            self.indexes.setdefault(body["uid"], {})
            return self._task("indexCreation", body["uid"])
        if route == ["swap-indexes"]:
            first, second = body[0]["indexes"]
            self.indexes[first], self.indexes[second] = (
                self.indexes.get(second, {}),
                self.indexes.get(first, {}),
            )
            return self._task("indexSwap", None)
        if route == ["multi-search"]:
            return 200, {"results": [self._search(query) for query in body["queries"]]}
        uid = route[1]
        if len(route) == 2 and method == "DELETE":
            self.indexes.pop(uid, None)
            return self._task("indexDeletion", uid)
        if uid not in self.indexes and route[2:3] != ["documents"]:
            return 404, {"message": f"Index `{uid}` not found.", "code": "index_not_found"}
        rest = route[2:]
        if rest == ["settings"]:
            self.settings.setdefault(uid, {}).update(body)
            return self._task("settingsUpdate", uid)
        if rest == ["stats"]:
            count = len(self.indexes[uid])
            return 200, {"numberOfDocuments": count, "isIndexing": False, "fieldDistribution": {}}
        if rest == ["documents"] and method == "POST":
            self.indexes.setdefault(uid, {}).update({int(d["id"]): d for d in body})
            return self._task("documentAdditionOrUpdate", uid)
        if rest == ["documents", "delete"]:
            index = self.indexes.setdefault(uid, {})
            for key in [k for k, doc in index.items() if _matches(doc, body["filter"])]:
                del index[key]
            return self._task("documentDeletion", uid)
        return 404, {"message": f"no route {method} {path} in the test double"}

    def _search(self, query: dict[str, Any]) -> dict[str, Any]:
        documents = list(self.indexes.get(query["indexUid"], {}).values())
        words = str(query.get("q") or "").lower().split()
        strategy = query.get("matchingStrategy", "last")

        def hits_words(doc: dict[str, Any]) -> int:
            fields = ("full_name", "names", "tags", "summary", "schema", "readme")
            text = " ".join(str(doc.get(f, "")) for f in fields).lower()
            return sum(word in text for word in words)

        found = [
            doc
            for doc in documents
            if _matches(doc, query.get("filter") or [])
            and (
                not words
                or hits_words(doc) == len(words)
                or (strategy == "last" and hits_words(doc) > 0)
            )
        ]
        found.sort(key=lambda d: (-hits_words(d), -int(d.get("run_count", 0)), -int(d["id"])))
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 20))
        answer: dict[str, Any] = {
            "indexUid": query["indexUid"],
            "hits": [{"id": d["id"], "_rankingScore": 0.5} for d in found[offset : offset + limit]],
            "estimatedTotalHits": len(found),
            "query": query.get("q", ""),
            "limit": limit,
            "offset": offset,
            "processingTimeMs": 0,
        }
        if query.get("facets"):
            distribution: dict[str, dict[str, int]] = {}
            for attribute in query["facets"]:
                counts: dict[str, int] = {}
                for doc in found:
                    value = doc.get(attribute)
                    for item in value if isinstance(value, list) else [value]:
                        counts[str(item)] = counts.get(str(item), 0) + 1
                distribution[attribute] = counts
            answer["facetDistribution"] = distribution
        return answer

    def _handler(self) -> Any:
        import json
        from http.server import BaseHTTPRequestHandler

        double = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                status, payload = double.handle(self.command, self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _matches(doc: dict[str, Any], condition: Any) -> bool:
    """The filter forms `registry.search.meili` writes: a list is AND of its items, a
    nested list OR; a string is `a = v`, `a IN [v, …]` joined by OR."""
    if isinstance(condition, list):
        return all(
            any(_matches(doc, c) for c in item) if isinstance(item, list) else _matches(doc, item)
            for item in condition
        )
    return any(_atom(doc, part.strip()) for part in str(condition).split(" OR "))


def _atom(doc: dict[str, Any], atom: str) -> bool:
    import re

    match = re.fullmatch(r"(\w+) (=|IN) (.+)", atom)
    assert match, f"the test double does not understand the filter {atom!r}"
    attribute, operator, raw = match.groups()
    if operator == "IN":
        wanted = [v.strip().strip('"') for v in raw.strip("[]").split(",") if v.strip()]
    else:
        wanted = [raw.strip('"').replace('\\"', '"')]
    value = doc.get(attribute)
    values = value if isinstance(value, list) else [value]
    return any(str(v) in wanted for v in values)
