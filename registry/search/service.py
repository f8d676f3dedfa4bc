"""Searching models: the one entry point for the API and the pages.

`search_models` parses the query (filters may be inside the text), asks the configured
backend, falls back to the database backend when that one is unavailable, and loads the
models of the page with what cards need. Visibility is enforced twice: every backend
filters on it, and the page is loaded through `selectors.visible_models`, so an index
that lags behind a visibility change still shows nothing it should not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When

from registry import backends, selectors
from registry.backends import Health
from registry.models import Collection, MLModel, SearchSyncPending, Tag
from registry.search import sync
from registry.search.base import (
    TOTAL_CAP,
    FacetValue,
    SearchBackend,
    SearchQuery,
    SearchUnavailable,
)
from registry.search.query import FACETS, parse_query, tokens, validate_sort
from registry.selectors import Actor

logger = logging.getLogger(__name__)

MAX_LIMIT = 100
MAX_OFFSET = TOTAL_CAP


@dataclass(frozen=True)
class SearchResult:
    """One page of a search."""

    models: list[MLModel]  # in rank order, loaded for cards or for the API (`full_models`)
    total: int  # matches in all pages
    facets: dict[str, list[FacetValue]]  # facet -> values by count; empty if not asked
    scores: dict[int, float]  # model id -> score (higher is better)
    text: str  # the words searched for, filters taken out
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0
    backend: str = "database"  # the backend that answered
    fallback_reason: str = ""  # why the database answered instead of the configured one
    facets_approximate: bool = False  # facet counts are estimates (a broad query)

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.models) < self.total


def search_models(
    *,
    user: Actor,
    text: str = "",
    filters: Mapping[str, Iterable[str]] | None = None,
    sort: str = "relevance",
    limit: int = 20,
    offset: int = 0,
    facets: bool = True,
    full_models: bool = False,
    backend: SearchBackend | None = None,
) -> SearchResult:
    """Models matching `text` and `filters` that `user` may see, best first.

    `filters` maps a facet (owner, tag, collection, hardware, input, output) to values;
    filters written in `text` (`input:image`) are added to them. Raises InvalidInput for
    an unknown facet, kind or sort. The models come with what a card shows (owner, the
    kinds of the search row), or with `full_models` with what the API's model objects
    hold (hardware, tags, the latest version's schema, the default example).
    """
    parsed = parse_query(text, filters)
    query = SearchQuery(
        text=parsed.text,
        filters=parsed.filters,
        sort=validate_sort(sort),
        limit=max(1, min(limit, MAX_LIMIT)),
        offset=max(0, min(offset, MAX_OFFSET)),
        owner_ids=tuple(sorted(selectors.writable_owners(user).values_list("id", flat=True))),
        facets=facets,
        sees_everything=selectors.sees_everything(user),
    )
    backend = backend or backends.search_backend()
    fallback_reason = ""
    try:
        hits = backend.query(query)
        used = backend.name
    except SearchUnavailable as e:
        if not backend.external:
            raise
        from registry.search.database import DatabaseSearchBackend

        fallback_reason = f"{backend.name} unavailable: {e}"
        logger.warning("Search falls back to the database: %s", fallback_reason)
        hits = DatabaseSearchBackend().query(query)
        used = DatabaseSearchBackend.name
    sync.schedule_popularity_refresh(daily_only=True)
    if full_models:
        models = _page_models(hits.ids, user=user)
    else:
        models = selectors.model_cards(hits.ids, user=user)
    return SearchResult(
        models=models,
        total=hits.total,
        facets=hits.facets,
        scores=hits.scores,
        text=parsed.text,
        filters=parsed.filters,
        sort=query.sort,
        limit=query.limit,
        offset=query.offset,
        backend=used,
        fallback_reason=fallback_reason,
        facets_approximate=hits.facets_approximate,
    )


def ordered_models(ids: Sequence[int], *, user: Actor) -> QuerySet[MLModel]:
    """These models in this order, those `user` may not see left out, loaded as the API's
    model objects are."""
    if not ids:
        return MLModel.objects.none()
    position = Case(
        *[When(pk=pk, then=Value(i)) for i, pk in enumerate(ids)], output_field=IntegerField()
    )
    return _loaded(selectors.visible_models(user).filter(pk__in=ids)).order_by(position)


def _page_models(ids: Sequence[int], *, user: Actor) -> list[MLModel]:
    """`ordered_models` as a list, ordered here rather than by a CASE in SQL."""
    if not ids:
        return []
    position = {pk: i for i, pk in enumerate(ids)}
    models = _loaded(selectors.visible_models(user).filter(pk__in=ids))
    return sorted(models, key=lambda model: position[model.pk])


def _loaded(models: QuerySet[MLModel]) -> QuerySet[MLModel]:
    """What the API's model objects hold: the model with its owner, hardware, latest
    version, default example and tags (cards take `selectors.model_cards` instead)."""
    return (
        models.select_related(
            "owner", "hardware", "latest_version", "default_example", "search_document"
        )
        .defer(
            "readme",
            "search_document__vector",
            "search_document__names_text",
            "search_document__summary_text",
            "search_document__schema_text",
            "search_document__readme_text",
        )
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
    )


def search_collections(
    *, text: str, user: Actor, limit: int = 5
) -> list[tuple[Collection, list[str]]]:
    """Collections whose name, slug or description has every word of `text`, each with
    the full names of the models in it that `user` may see."""
    words = tokens(text)
    if not words:
        return []
    condition = Q()
    for word in words:
        condition &= (
            Q(name__icontains=word) | Q(slug__icontains=word) | Q(description__icontains=word)
        )
    collections = list(Collection.objects.filter(condition).order_by("position", "slug")[:limit])
    names: dict[int, list[str]] = {c.pk: [] for c in collections}
    visible = selectors.visible_models(user).filter(collection_items__collection__in=collections)
    for collection_id, owner, name in visible.order_by(
        "collection_items__position", "id"
    ).values_list("collection_items__collection_id", "owner__username", "name"):
        names[collection_id].append(f"{owner}/{name}")
    return [(c, names[c.pk]) for c in collections]


def search_health() -> Health:
    """The configured backend's health, `degraded` (with why) when searches fall back."""
    backend = backends.search_backend()
    try:
        health: Health = backend.health()
    except Exception as e:  # a health check reports, it never raises
        health = Health("down", f"{type(e).__name__}: {e}")
    if not backend.external:
        return health
    info = {
        **health.info,
        "backend": backend.name,
        "pending_changes": SearchSyncPending.objects.count(),
    }
    if health.status == "ok":
        return Health("ok", health.detail, info)
    return Health(
        "degraded",
        f"{backend.name} is unavailable ({health.detail}); searching the database instead.",
        {**info, "fallback": "database"},
    )


__all__ = ["FACETS", "SearchResult", "ordered_models", "search_health", "search_models"]
