"""Finding models: the search and browse page's query, and the explore page's rows.

`browse(...)` is the one place that turns a search text, filters and a sort into models.
It asks the configured search backend for the text part and filters a queryset built from
`registry.selectors.visible_models`; the search service (with facets) replaces its body
when it lands, and the pages keep calling it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Case, F, IntegerField, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber
from django.http import QueryDict
from django.utils import timezone

from catalog import modality
from registry import backends, selectors
from registry.models import Collection, MLModel
from registry.selectors import Actor

SORTS = {
    "trending": "Trending",
    "runs": "Most runs",
    "updated": "Recently updated",
    "relevance": "Relevance",
}
SEARCH_LIMIT = 500
TRENDING_WINDOW = timedelta(days=30)


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
        query = cls(**values)
        if query.sort not in SORTS or (query.sort == "relevance" and not query.q):
            query = replace(query, sort="relevance" if query.q else "trending")
        if query.input not in modality.KINDS:
            query = replace(query, input="")
        if query.output not in modality.KINDS:
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
    models: QuerySet[MLModel]
    query: BrowseQuery
    facets: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def browse(query: BrowseQuery, *, user: Actor) -> BrowseResult:
    """Models matching the query that `user` may see, sorted as asked (not yet paginated)."""
    models = selectors.model_list(user=user)
    ranking: list[int] = []
    if query.q:
        found = backends.search_backend().search(query.q, user=user, limit=SEARCH_LIMIT)
        ranking = list(found.values_list("id", flat=True))
        models = models.filter(id__in=ranking)
    if query.owner:
        models = models.filter(owner__username=query.owner.lower())
    if query.tag:
        models = models.filter(tags__name=query.tag.lower())
    if query.collection:
        models = models.filter(collection_items__collection__slug=query.collection)
    if query.hardware:
        models = models.filter(hardware_id=query.hardware)
    if query.input or query.output:
        models = models.filter(id__in=_ids_with_kinds(models, query.input, query.output))
    return BrowseResult(models=_sorted(models, query.sort, ranking), query=query, facets=_facets())


def _facets() -> dict[str, list[tuple[str, str]]]:
    """The choices of the filter menus (the search service adds counts)."""
    kinds: list[tuple[str, str]] = [(str(kind), str(kind)) for kind in modality.KINDS]
    return {
        "collection": [(c.slug, c.name) for c in selectors.collection_list()],
        "hardware": [(h.sku, h.name) for h in selectors.hardware_list()],
        "input": kinds,
        "output": kinds,
    }


def _sorted(models: QuerySet[MLModel], sort: str, ranking: list[int]) -> QuerySet[MLModel]:
    if sort == "relevance" and ranking:
        position = Case(
            *[When(id=model_id, then=Value(i)) for i, model_id in enumerate(ranking)],
            output_field=IntegerField(),
        )
        return models.order_by(position, "-id")
    if sort == "runs":
        return models.order_by("-run_count", "-id")
    if sort == "updated":
        return models.order_by("-latest_version_created_at", "-id")
    return trending(models)


def trending(models: QuerySet[MLModel]) -> QuerySet[MLModel]:
    """Most-run models among those updated lately, then the rest by runs.

    An approximation until run history exists: `run_count` is all-time, so "recently
    updated" stands in for "recently used". Swap for runs in the last week when the
    predictions table can answer that cheaply."""
    recent = Case(
        When(latest_version_created_at__gte=timezone.now() - TRENDING_WINDOW, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return models.order_by(recent.desc(), "-run_count", "-latest_version_created_at", "-id")


def _ids_with_kinds(models: QuerySet[MLModel], wanted_in: str, wanted_out: str) -> list[int]:
    """Ids of `models` whose latest version takes `wanted_in` and gives `wanted_out`.

    Kinds are derived in Python (see catalog.modality) and cached per version, so schemas
    are loaded only for versions not seen before. The search service indexes kinds as
    facets instead."""
    rows = list(models.order_by().values_list("id", "latest_version_id", "description"))
    keys = {version_id: modality.cache_key(version_id) for _, version_id, _ in rows if version_id}
    known: dict[str, Any] = cache.get_many(list(keys.values()))
    missing = [v for v, key in keys.items() if not isinstance(known.get(key), modality.Modality)]
    schemas = dict(
        models.model.objects.filter(latest_version_id__in=missing)
        .order_by()
        .values_list("latest_version_id", "latest_version__openapi_schema")
    )
    ids = []
    for model_id, version_id, description in rows:
        if not version_id:
            continue
        found = known.get(keys[version_id])
        if not isinstance(found, modality.Modality):
            found = modality.for_version(version_id, schemas.get(version_id), hint=description)
        if wanted_in and wanted_in not in found.all_inputs:
            continue
        if wanted_out and wanted_out not in found.all_outputs:
            continue
        ids.append(model_id)
    return ids


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
    total: int


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
    by_collection: dict[int, list[MLModel]] = {}
    for model in in_rows:
        by_collection.setdefault(model.row_collection, []).append(model)
    return Explore(
        featured=featured,
        collections=[
            CollectionRow(c, by_collection[c.pk]) for c in shown if by_collection.get(c.pk)
        ],
        trending=list(trending(visible)[:per_row]),
        recent=list(visible.order_by("-latest_version_created_at", "-id")[:per_row]),
        total=visible.count(),
    )
