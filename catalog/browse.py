"""Finding models: the search and browse page's query, and the explore page's rows.

`browse(...)` is the one place that turns a search text, filters and a sort into a page of
models, through `registry.search.service` — the same service as `GET /v1/search`, so the
page and the API rank, filter and count alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import overload

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import QueryDict

from registry import selectors, signatures
from registry.errors import InvalidInput
from registry.models import Collection, MLModel, SearchDocument
from registry.search import service as search_service
from registry.selectors import Actor

SORTS = {
    "trending": "Trending",
    "runs": "Most runs",
    "updated": "Recently updated",
    "relevance": "Relevance",
}


@dataclass(frozen=True)
class BrowseQuery:
    """What the search page was asked for; every field is a GET parameter of its URL."""

    q: str = ""
    owner: str = ""
    tag: str = ""
    collection: str = ""
    input: str = ""
    output: str = ""
    hardware: str = ""
    sort: str = ""

    @classmethod
    def from_params(cls, params: QueryDict) -> BrowseQuery:
        values = {f.name: str(params.get(f.name, "")).strip()[:200] for f in fields(cls)}
        for name in ("owner", "tag", "collection", "hardware"):  # names are lowercase
            values[name] = values[name].lower()
        query = cls(**values)
        if query.sort not in SORTS or (query.sort == "relevance" and not query.q):
            query = replace(query, sort="relevance" if query.q else "trending")
        if query.input not in signatures.KINDS:
            query = replace(query, input="")
        if query.output not in signatures.KINDS:
            query = replace(query, output="")
        return query

    def params(self, **changes: str) -> str:
        """This query as a URL query string, with `changes` applied ("" drops a filter)."""
        query = QueryDict(mutable=True)
        for name, value in {**self.as_dict(), **changes}.items():
            if value and not (name == "sort" and value == self.default_sort):
                query[name] = value
        return query.urlencode()

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def default_sort(self) -> str:
        return "relevance" if self.q else "trending"

    @property
    def active_filters(self) -> list[tuple[str, str, str]]:
        """(label, value, URL query without it) for every filter in use."""
        labels = {
            "owner": "Owner",
            "tag": "Tag",
            "collection": "Collection",
            "input": "Input",
            "output": "Output",
            "hardware": "Hardware",
        }
        return [
            (label, getattr(self, name), self.params(**{name: ""}))
            for name, label in labels.items()
            if getattr(self, name)
        ]


@dataclass
class BrowseResult:
    """One page of the search page: models in order, the total, and the filter menus."""

    models: list[MLModel]
    total: int
    query: BrowseQuery
    offset: int = 0
    facets: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    counts: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    fallback_reason: str = ""


class ResultPages(Sequence[MLModel]):
    """What Django's Paginator needs to page search results the search service already
    paged: the total as its length, and the one page it holds at its offset."""

    def __init__(self, total: int, offset: int, models: list[MLModel]) -> None:
        self.total, self.offset, self.models = total, offset, models

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> MLModel: ...
    @overload
    def __getitem__(self, index: slice) -> list[MLModel]: ...
    def __getitem__(self, index: int | slice) -> MLModel | list[MLModel]:
        if isinstance(index, slice):
            start = (index.start or 0) - self.offset
            stop = (index.stop if index.stop is not None else self.total) - self.offset
            return self.models[max(start, 0) : max(stop, 0)]
        return self.models[index - self.offset]


# The catalog's sort names and the search service's.
SERVICE_SORTS = {
    "trending": "trending",
    "runs": "run_count",
    "updated": "updated",
    "relevance": "relevance",
}


def browse(query: BrowseQuery, *, user: Actor, page: int = 1, per_page: int = 24) -> BrowseResult:
    """One page of models for the search page, from the same search service as the API."""
    filters = {
        name: [getattr(query, name)]
        for name in ("owner", "tag", "collection", "input", "output", "hardware")
        if getattr(query, name)
    }
    offset = max(0, min(page - 1, search_service.MAX_OFFSET // per_page)) * per_page
    try:
        found = search_service.search_models(
            user=user,
            text=query.q,
            filters=filters,
            sort=SERVICE_SORTS[query.sort],
            limit=per_page,
            offset=offset,
        )
    except InvalidInput:
        # A filter value the index does not know (hand-edited URL): show nothing, not an error.
        return BrowseResult(models=[], total=0, query=query, offset=offset, facets=_menus({}))
    counts = {name: [(v.value, v.count) for v in values] for name, values in found.facets.items()}
    return BrowseResult(
        models=found.models,
        total=found.total,
        query=query,
        offset=offset,
        facets=_menus(counts, approximate=found.facets_approximate),
        counts=counts,
        fallback_reason=found.fallback_reason,
    )


def _menus(
    counts: dict[str, list[tuple[str, int]]], *, approximate: bool = False
) -> dict[str, list[tuple[str, str]]]:
    """The filter menus: every choice, with how many models it would show ("~1200" when
    the search estimated the counts)."""
    about = "~" if approximate else ""

    def menu(choices: list[tuple[str, str]], facet: str) -> list[tuple[str, str]]:
        found = dict(counts.get(facet, []))
        return [
            (value, f"{label} ({about}{found[value]})" if value in found else label)
            for value, label in choices
        ]

    kinds = [(kind, signatures.label(kind)) for kind in signatures.KINDS]
    return {
        "collection": menu([(c.slug, c.name) for c in selectors.collection_list()], "collection"),
        "hardware": menu([(h.sku, h.name) for h in selectors.hardware_list()], "hardware"),
        "input": menu(kinds, "input"),
        "output": menu(kinds, "output"),
    }


def trending(models: QuerySet[MLModel], limit: int, fill: Sequence[MLModel] = ()) -> list[MLModel]:
    """Most runs in the last 7 days, as the search index counts them, then all-time runs;
    a row the search documents leave short (models not indexed yet) is filled from `fill`.

    Picked on the search documents' trending index, then loaded for cards, two queries
    whatever the catalog: sorting the visible models joined with their documents took
    0.6 s at 100k models.
    """
    picked = list(
        SearchDocument.objects.filter(model__in=models.values("pk"))
        .order_by("-runs_7d", "-run_count", "-model")
        .values_list("model", flat=True)[:limit]
    )
    loaded = {m.pk: m for m in models.filter(pk__in=picked)}
    found = [loaded[pk] for pk in picked if pk in loaded]
    return (found + [m for m in fill if m.pk not in loaded])[:limit]


# The explore page ----------------------------------------------------------------------


@dataclass
class CollectionRow:
    collection: Collection
    models: list[MLModel]


@dataclass
class Explore:
    featured: list[MLModel]
    collections: list[CollectionRow]
    trending: list[MLModel]
    recent: list[MLModel]


def explore(*, user: Actor, per_row: int = 8, collections: int = 6) -> Explore:
    """The explore page's rows in a fixed number of queries, whatever the catalog's size."""
    visible = selectors.model_list(user=user)
    featured = list(visible.filter(featured=True).order_by("-run_count", "-id")[:4])
    shown = list(selectors.collection_list()[:collections])
    slots = Window(
        RowNumber(),
        partition_by=F("collection_items__collection_id"),
        order_by=[F("collection_items__position").asc(), F("id").asc()],
    )
    in_rows = (
        visible.filter(collection_items__collection__in=shown)
        .annotate(row_collection=F("collection_items__collection_id"), slot=slots)
        .filter(slot__lte=per_row)
        .order_by("row_collection", "slot")
    )
    recent = list(visible.order_by("-latest_version_created_at", "-id")[:per_row])
    by_collection: dict[int, list[MLModel]] = {}
    for model in in_rows:
        by_collection.setdefault(model.row_collection, []).append(model)
    return Explore(
        featured=featured,
        collections=[
            CollectionRow(c, by_collection[c.pk]) for c in shown if by_collection.get(c.pk)
        ],
        trending=trending(visible, per_row, fill=recent),
        recent=recent,
    )
