from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Cached pages, READMEs and modalities must not leak from one test into the next."""
    cache.clear()
    yield
    cache.clear()
