"""Meilisearch as the search backend, through the official `meilisearch` client.

Documents are built from the `SearchDocument` rows (so Meilisearch and the database
backend see the same words, kinds and counts) and pushed by the `search` task after
commit. Each search is one `multi-search` request: the page with facet counts, one
facet query per facet that has a filter (facets are disjunctive, as in the database
backend), and the exact `owner/name` match when the query is one.

When Meilisearch fails, every call raises SearchUnavailable for SEARCH_RETRY_SECONDS
without touching the network, and the service searches the database meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, TypeVar

import requests
from django.conf import settings
from meilisearch.errors import MeilisearchError

from registry.backends import Health
from registry.models import SearchDocument
from registry.search import ranking
from registry.search.base import (
    FACET_LIMIT,
    TOTAL_CAP,
    FacetValue,
    Progress,
    SearchBackend,
    SearchHits,
    SearchQuery,
    SearchUnavailable,
)
from registry.search.synonyms import meili_synonyms

T = TypeVar("T")

# facet -> document attribute
FACET_ATTRIBUTES: Final = {
    "owner": "owner",
    "tag": "tags",
    "collection": "collections",
    "hardware": "hardware",
    "input": "input_kinds",
    "output": "output_kinds",
}
SORTS: Final = {
    "trending": ["runs_7d:desc", "run_count:desc"],
    "run_count": ["run_count:desc"],
    "updated": ["updated_at:desc"],
}
INDEX_SETTINGS: Final[dict[str, Any]] = {
    # Earlier attributes weigh more, like the A-D weights of the database backend.
    "searchableAttributes": ["full_name", "names", "tags", "summary", "schema", "readme"],
    "filterableAttributes": [
        "id",
        "visibility",
        "owner_id",
        "full_name",
        *FACET_ATTRIBUTES.values(),
    ],
    "sortableAttributes": ["run_count", "runs_7d", "updated_at"],
    # An explicit sort decides first; otherwise relevance, then popularity (a coarse
    # bucket of run counts, recent runs and freshness), then recency.
    "rankingRules": [
        "sort",
        "words",
        "typo",
        "proximity",
        "attribute",
        "popularity:desc",
        "exactness",
        "updated_at:desc",
    ],
    "synonyms": meili_synonyms(),
    "faceting": {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "count"}},
    "pagination": {"maxTotalHits": TOTAL_CAP},
}
BATCH_SIZE: Final = 1000
TASK_TIMEOUT_MS: Final = 120_000


def meili_document(row: SearchDocument) -> dict[str, Any]:
    return {
        "id": row.model_id,
        "full_name": row.full_name,
        "owner": row.owner_name,
        "name": row.name,
        "names": row.names_text,
        "summary": row.summary_text,
        "schema": row.schema_text,
        "readme": row.readme_text,
        "tags": list(row.tags),
        "collections": list(row.collections),
        "hardware": row.hardware,
        "input_kinds": list(row.input_kinds),
        "output_kinds": list(row.output_kinds),
        "visibility": row.visibility,
        "owner_id": row.owner_id,
        "run_count": row.run_count,
        "runs_7d": row.runs_7d,
        "popularity": ranking.popularity_bucket(row.quality),
        "updated_at": int(row.updated_at.timestamp()),
    }


def quote(value: str) -> str:
    """A string literal of Meilisearch's filter language."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def visibility_filter(owner_ids: Sequence[int]) -> str:
    if not owner_ids:
        return "visibility = public"
    return f"visibility = public OR owner_id IN [{', '.join(str(int(i)) for i in owner_ids)}]"


def filters_for(query: SearchQuery, *, skip: str = "") -> list[Any]:
    """AND across the outer list, OR within an inner list."""
    parts: list[Any] = [] if query.sees_everything else [visibility_filter(query.owner_ids)]
    for facet, values in query.filters.items():
        if facet != skip and facet in FACET_ATTRIBUTES and values:
            parts.append([f"{FACET_ATTRIBUTES[facet]} = {quote(v)}" for v in values])
    return parts


class MeilisearchBackend(SearchBackend):
    name = "meilisearch"
    external = True

    def __init__(self, client: Any = None, *, index: str | None = None) -> None:
        self._client = client
        self.index_uid = index or settings.MEILISEARCH_INDEX
        self._down_until = 0.0
        self._last_error = ""
        self._settings_applied = False

    @property
    def client(self) -> Any:
        if self._client is None:
            if not settings.MEILISEARCH_URL:
                raise SearchUnavailable("MEILISEARCH_URL is not set")
            import meilisearch

            self._client = meilisearch.Client(
                settings.MEILISEARCH_URL,
                settings.MEILISEARCH_API_KEY or None,
                timeout=settings.MEILISEARCH_TIMEOUT,
            )
        return self._client

    def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call the client; turn its failures into SearchUnavailable and stop calling
        for SEARCH_RETRY_SECONDS after one."""
        if time.monotonic() < self._down_until:
            raise SearchUnavailable(self._last_error)
        try:
            return function(*args, **kwargs)
        except (MeilisearchError, requests.RequestException, OSError) as e:
            self._last_error = f"{type(e).__name__}: {e}"
            self._down_until = time.monotonic() + settings.SEARCH_RETRY_SECONDS
            raise SearchUnavailable(self._last_error) from e

    def _wait(self, task: Any, timeout_ms: int = TASK_TIMEOUT_MS) -> None:
        done = self._call(self.client.wait_for_task, task.task_uid, timeout_in_ms=timeout_ms)
        if getattr(done, "status", "succeeded") != "succeeded":
            raise SearchUnavailable(f"Meilisearch task {task.task_uid} failed: {done.error}")

    # Searching ------------------------------------------------------------------------

    def query(self, query: SearchQuery) -> SearchHits:
        hits = self._search(query, strategy="all")
        if hits.total == 0 and len(query.tokens) > 1:
            hits = self._search(query, strategy="last")  # any word, as the database does
        return hits

    def _search(self, query: SearchQuery, *, strategy: str) -> SearchHits:
        main: dict[str, Any] = {
            "indexUid": self.index_uid,
            "q": query.text,
            "filter": filters_for(query) or None,  # staff: none at all
            "limit": query.limit,
            "offset": query.offset,
            "attributesToRetrieve": ["id"],
            "showRankingScore": True,
            "matchingStrategy": strategy,
        }
        if query.sort in SORTS:
            main["sort"] = SORTS[query.sort]
        requests_: list[dict[str, Any]] = [main]
        own_facets = []
        if query.facets:
            main["facets"] = list(FACET_ATTRIBUTES.values())
            for facet in FACET_ATTRIBUTES:
                if query.filters.get(facet):
                    own_facets.append(facet)
                    requests_.append(
                        {
                            **main,
                            "filter": filters_for(query, skip=facet) or None,
                            "facets": [FACET_ATTRIBUTES[facet]],
                            "limit": 0,
                            "offset": 0,
                        }
                    )
        exact = query.exact_full_name
        pinned = exact is not None and query.offset == 0 and query.sort == "relevance"
        if pinned:
            requests_.append(
                {
                    "indexUid": self.index_uid,
                    "q": "",
                    "filter": [*filters_for(query), f"full_name = {quote(exact or '')}"],
                    "limit": 1,
                    "attributesToRetrieve": ["id"],
                }
            )
        results = self._call(self.client.multi_search, requests_)["results"]
        page = results[0]
        ids = [int(hit["id"]) for hit in page.get("hits", [])]
        scores = {
            int(hit["id"]): round(float(hit.get("_rankingScore", 0.0)), 4)
            for hit in page.get("hits", [])
        }
        if pinned and results[-1].get("hits"):
            first = int(results[-1]["hits"][0]["id"])
            ids = [first, *(i for i in ids if i != first)][: query.limit]
            scores.setdefault(first, 1.0)
        total = min(int(page.get("estimatedTotalHits", len(ids))), TOTAL_CAP)
        facets: dict[str, list[FacetValue]] = {}
        if query.facets:
            distribution = dict(page.get("facetDistribution", {}))
            for position, facet in enumerate(own_facets, start=1):
                attribute = FACET_ATTRIBUTES[facet]
                distribution[attribute] = (
                    results[position].get("facetDistribution", {}).get(attribute, {})
                )
            facets = {
                facet: _facet_values(distribution.get(attribute, {}))
                for facet, attribute in FACET_ATTRIBUTES.items()
            }
        return SearchHits(ids=ids, total=total, scores=scores, facets=facets)

    def health(self) -> Health:
        info: dict[str, Any] = {"backend": self.name, "index": self.index_uid}
        try:
            self.client.health()
            stats = self.client.index(self.index_uid).get_stats()
        except (SearchUnavailable, MeilisearchError, requests.RequestException, OSError) as e:
            return Health("down", f"{type(e).__name__}: {e}", info)
        self._down_until = 0.0  # reachable again: stop falling back
        documents = getattr(stats, "number_of_documents", None)
        if documents is not None:
            info["documents"] = documents
        return Health("ok", info=info)

    # Indexing -------------------------------------------------------------------------

    def setup(self) -> None:
        """Create the index if it is missing and apply INDEX_SETTINGS (idempotent:
        Meilisearch does nothing for settings it already has)."""
        self._setup_index(self.index_uid)
        self._settings_applied = True

    def _index_uids(self) -> set[str]:
        # The client passes Meilisearch's answer through: {"results": [...], "total", ...}.
        answer = self._call(self.client.get_raw_indexes, {"limit": 1000})
        return {index["uid"] for index in answer["results"]}

    def _setup_index(self, uid: str) -> None:
        if uid not in self._index_uids():
            self._wait(self._call(self.client.create_index, uid, {"primaryKey": "id"}))
        self._wait(self._call(self.client.index(uid).update_settings, INDEX_SETTINGS))

    def index_documents(self, documents: Iterable[SearchDocument]) -> None:
        payload = [meili_document(row) for row in documents]
        if not payload:
            return
        if not self._settings_applied:
            self.setup()
        index = self.client.index(self.index_uid)
        for start in range(0, len(payload), BATCH_SIZE):
            self._call(index.add_documents, payload[start : start + BATCH_SIZE], primary_key="id")

    def remove_models(self, model_ids: Iterable[int]) -> None:
        ids = sorted({int(i) for i in model_ids})
        if not ids:
            return
        index = self.client.index(self.index_uid)
        for start in range(0, len(ids), BATCH_SIZE):
            batch = ids[start : start + BATCH_SIZE]
            self._call(index.delete_documents, filter=f"id IN [{', '.join(map(str, batch))}]")

    def rebuild(
        self, documents: Iterable[SearchDocument], *, total: int, progress: Progress
    ) -> None:
        """Fill a fresh index beside the live one, then swap them: searches keep being
        answered from the old index until the new one is complete."""
        staging = f"{self.index_uid}-rebuild"
        existing = self._index_uids()
        if staging in existing:
            self._wait(self._call(self.client.delete_index, staging))
        self._setup_index(staging)
        if self.index_uid not in existing:
            self._setup_index(self.index_uid)
        index = self.client.index(staging)
        batch: list[dict[str, Any]] = []
        done = 0
        last = None
        for row in documents:
            batch.append(meili_document(row))
            if len(batch) == BATCH_SIZE:
                last = self._call(index.add_documents, batch, primary_key="id")
                done += len(batch)
                batch = []
                progress(done, total)
        if batch:
            last = self._call(index.add_documents, batch, primary_key="id")
            done += len(batch)
            progress(done, total)
        if last is not None:
            self._wait(last, timeout_ms=max(TASK_TIMEOUT_MS, total * 5))
        self._wait(self._call(self.client.swap_indexes, [{"indexes": [self.index_uid, staging]}]))
        self._wait(self._call(self.client.delete_index, staging))
        self._settings_applied = True


def _facet_values(distribution: Mapping[str, Any]) -> list[FacetValue]:
    values = [FacetValue(str(value), int(count)) for value, count in distribution.items()]
    values.sort(key=lambda v: (-v.count, v.value))
    return values[:FACET_LIMIT]
