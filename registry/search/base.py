"""The search interface every backend implements, and the values passed through it."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from django.db.models import QuerySet

from registry.backends import Health
from registry.models import MLModel, SearchDocument
from registry.search.query import exact_full_name, signature_intent, tokens
from registry.selectors import Actor

# How many values a facet lists at most.
FACET_LIMIT = 20
# Totals are exact up to this many matches (Meilisearch's default maxTotalHits), and say
# this many beyond: counting further costs time, and nobody pages that far.
TOTAL_CAP = 1000

Progress = Callable[[int, int], None]


class SearchUnavailable(Exception):
    """The backend cannot answer now (unreachable, timing out, misconfigured)."""


@dataclass(frozen=True)
class SearchQuery:
    """One search, as every backend receives it: already parsed and validated.

    `owner_ids` are the owners whose private models the viewer may see (none for
    anonymous people); every backend must return only public models and those, unless
    `sees_everything` (staff).
    """

    text: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0
    owner_ids: tuple[int, ...] = ()
    facets: bool = False
    sees_everything: bool = False

    @property
    def tokens(self) -> list[str]:
        return tokens(self.text)

    @property
    def exact_full_name(self) -> str | None:
        return exact_full_name(self.text)

    @property
    def intent(self) -> tuple[str, str] | None:
        """What the words ask the model to take and return ("speech to text")."""
        return signature_intent(self.text)


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass
class SearchHits:
    """Model ids in rank order (one page), how many match in all, and facet counts."""

    ids: list[int]
    total: int
    scores: dict[int, float] = field(default_factory=dict)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    # True when facet counts are estimates (from a sample of a broad query's matches).
    facets_approximate: bool = False


class SearchBackend(abc.ABC):
    name: ClassVar[str] = ""
    # True when the backend keeps its own index, filled from SearchDocument rows by the
    # `search` task; the database backend reads those rows directly.
    external: ClassVar[bool] = False

    @abc.abstractmethod
    def query(self, query: SearchQuery) -> SearchHits:
        """One page of matching model ids, best first. Raises SearchUnavailable."""

    @abc.abstractmethod
    def health(self) -> Health: ...

    def search(self, query: str, *, user: Actor, limit: int = 20) -> QuerySet[MLModel]:
        """Models matching `query` (filters like `input:image` included) that `user`
        may see, best first. Kept for callers that want a queryset; new code calls
        `registry.search.service.search_models`, which also gives facets and totals."""
        from registry.search.service import ordered_models, search_models

        result = search_models(user=user, text=query, limit=limit, facets=False, backend=self)
        return ordered_models([model.pk for model in result.models], user=user)

    def setup(self) -> None:  # noqa: B027
        """Create the index and apply its settings; idempotent."""

    def index_documents(self, documents: Iterable[SearchDocument]) -> None:  # noqa: B027
        """Put these documents into the index (no-op for the database backend)."""

    def remove_models(self, model_ids: Iterable[int]) -> None:  # noqa: B027
        """Drop these models from the index (no-op for the database backend)."""

    def rebuild(  # noqa: B027
        self, documents: Iterable[SearchDocument], *, total: int, progress: Progress
    ) -> None:
        """Replace the whole index with these documents."""
