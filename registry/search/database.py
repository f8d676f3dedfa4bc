"""Search in the database itself: works on SQLite and PostgreSQL with no extra service."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from registry import selectors
from registry.backends import Health
from registry.models import MLModel
from registry.search.base import SearchBackend
from registry.selectors import Actor


class DatabaseSearchBackend(SearchBackend):
    name = "database"

    def search(self, query: str, *, user: Actor, limit: int = 20) -> QuerySet[MLModel]:
        models = selectors.visible_models(user).select_related("owner", "latest_version")
        for word in query.split():
            owner, _, name = word.partition("/")
            if name:
                models = models.filter(owner__username__icontains=owner, name__icontains=name)
            else:
                models = models.filter(
                    Q(name__icontains=word)
                    | Q(owner__username__icontains=word)
                    | Q(description__icontains=word)
                    | Q(tags__name__iexact=word)
                ).distinct()
        return models.order_by("-run_count", "-id")[:limit]

    def health(self) -> Health:
        return Health("ok", info={"backend": self.name})
