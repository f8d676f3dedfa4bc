"""Caching of whole page parts for anonymous visitors, and when to forget them.

Anonymous visitors all see the same explore page, so its rendered rows are cached under
a "catalog generation" number. Any change to models, versions, tags, collections or
examples bumps the generation (signals below), which orphans every cached part at once.
Run counts change through `UPDATE … SET run_count = run_count + 1` without signals; the
short timeout bounds how stale a cached count can be.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

from registry.models import Collection, CollectionItem, Example, MLModel, Owner, Version

GENERATION_KEY = "catalog:generation"
ANONYMOUS_TIMEOUT = 60


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    if not isinstance(value, int):
        value = 1
        cache.add(GENERATION_KEY, value, timeout=None)
    return value


def bump(*args: Any, **kwargs: Any) -> None:
    """Forget every cached catalog part (a signal receiver, callable on its own too)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, timeout=None)


def anonymous_key(part: str) -> str:
    return f"catalog:anon:{part}:{generation()}"


def connect() -> None:
    for sender in (MLModel, Version, Collection, CollectionItem, Example, Owner):
        post_save.connect(bump, sender=sender, dispatch_uid=f"catalog-bump-save-{sender}")
        post_delete.connect(bump, sender=sender, dispatch_uid=f"catalog-bump-delete-{sender}")
    m2m_changed.connect(bump, sender=MLModel.tags.through, dispatch_uid="catalog-bump-tags")
