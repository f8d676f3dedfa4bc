from __future__ import annotations

from typing import Any

import pytest

from tests.registry.search.helpers import MakeModel, model_maker


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Search caches facet counts; every test starts without them."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def make_model(db: Any) -> MakeModel:
    """Makes a model (`make_model("owner/name", "description", tags=..., runs=...)`)
    with a version of a given signature, indexed for search."""
    return model_maker()
