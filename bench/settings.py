"""Settings of the benchmark stack: Vitrine's own, plus the benchmark-only routes of
`bench/urls.py` (the trivial baseline view). Everything else comes from the environment,
exactly as in production."""

from __future__ import annotations

from registry.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
