"""The search interface every backend implements."""

from __future__ import annotations

import abc
from collections.abc import Iterable

from django.db.models import QuerySet

from registry.backends import Health
from registry.models import MLModel
from registry.selectors import Actor


class SearchBackend(abc.ABC):
    name: str = ""

    @abc.abstractmethod
    def search(self, query: str, *, user: Actor, limit: int = 20) -> QuerySet[MLModel]:
        """Models matching `query` that `user` may see, best first."""

    @abc.abstractmethod
    def health(self) -> Health: ...

    def index_models(self, model_ids: Iterable[int]) -> None:  # noqa: B027
        """Bring the index up to date for these models (no-op for the database backend)."""

    def remove_models(self, model_ids: Iterable[int]) -> None:  # noqa: B027
        """Drop these models from the index (no-op for the database backend)."""
