"""Search latency on PostgreSQL at 1k and 100k models (10k with --quick).

Builds its own database (`vitrine_bench`, dropped and created again; BENCH_DATABASE_URL
to point elsewhere), fills it with the synthetic catalog by bulk inserts, builds the
search documents, then times `search_models` over a mix of queries (words, misspellings,
signature filters, an empty browse). The baseline, measured in the same run on the same
data, is a plain ILIKE scan: every word matched with `icontains` on name, owner,
description and tags, ordered by run count (what search did before the search table).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from bench.common import BenchContext, Figure, summarize, time_calls

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = "vitrine_bench"
QUERIES = [
    "whisper",
    "stable diffusion",
    "speech to text",
    "upscale images",
    "stabel difusion",
    "llama chat",
    "sdxl lora",
    "input:image output:text",
    "text to video",
    "anime",
    "meta",
    "",
]
REPEAT = 15


def _setup_django() -> None:
    url = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DATABASE}")
    if url.rsplit("/", 1)[-1] == DATABASE:
        import psycopg

        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {DATABASE}")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    if settings.configured and "bench" not in settings.DATABASES["default"].get("NAME", ""):
        # Another benchmark configured Django first: point it at our database.
        import dj_database_url
        from django.db import connections

        connections["default"].close()
        settings.DATABASES["default"].update(dj_database_url.parse(url))
    django.setup()


def _load(count: int, seed: int) -> dict[str, float]:
    from django.core.management import call_command
    from django.db import connection

    from registry import synthetic
    from registry.models import MLModel
    from registry.search import documents

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE registry_model, registry_owner, registry_tag CASCADE")
        cursor.execute("TRUNCATE registry_searchterm")
    started = time.perf_counter()
    synthetic.load(synthetic.generate(count, seed=seed), batch_size=5000)
    loaded = time.perf_counter()
    documents.rebuild_all()
    indexed = time.perf_counter()
    call_command("migrate", verbosity=0)  # no-op; keeps the connection warm
    # As autovacuum would soon after a bulk load (or anyone after a restore): statistics,
    # the visibility map, and the GIN indexes' pending lists merged. Without it, searches
    # scan up to 4 MB of pending entries each and the planner misjudges the partial index.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    assert MLModel.objects.count() == count
    return {"load_s": loaded - started, "index_s": indexed - loaded}


def _baseline_search(text: str) -> list[Any]:
    """The pre-search-table way: ILIKE on every word, most run first."""
    from django.db.models import Q

    from registry import selectors
    from registry.search.query import parse_query

    parsed = parse_query(text)
    models = selectors.visible_models(None).select_related("owner", "latest_version")
    for word in parsed.text.split():
        models = models.filter(
            Q(name__icontains=word)
            | Q(owner__username__icontains=word)
            | Q(description__icontains=word)
            | Q(tags__name__iexact=word)
        ).distinct()
    return list(models.order_by("-run_count", "-id")[:20])


def _measure(facets: bool, cache_seconds: int = 0) -> list[float]:
    from django.test.utils import override_settings

    from registry.search.service import search_models

    samples: list[float] = []
    with override_settings(SEARCH_FACETS_CACHE_SECONDS=cache_seconds):
        for text in QUERIES:
            samples += time_calls(
                lambda text=text: search_models(user=None, text=text, limit=20, facets=facets),
                repeat=REPEAT,
                warmup=2,
            )
    return samples


def _measure_backend() -> list[float]:
    """The backend alone: ids of the page and the total, no models loaded."""
    from registry.search.base import SearchQuery
    from registry.search.database import DatabaseSearchBackend
    from registry.search.query import parse_query

    backend = DatabaseSearchBackend()
    samples: list[float] = []
    for text in QUERIES:
        parsed = parse_query(text)
        query = SearchQuery(text=parsed.text, filters=parsed.filters, limit=20)
        samples += time_calls(lambda query=query: backend.query(query), repeat=REPEAT, warmup=2)
    return samples


def _measure_baseline() -> list[float]:
    samples: list[float] = []
    for text in QUERIES:
        samples += time_calls(lambda text=text: _baseline_search(text), repeat=REPEAT, warmup=2)
    return samples


def _vs_ilike(
    name: str,
    measured: dict[str, float],
    baseline: dict[str, float],
    pct: str,
    notes: str,
    extra: dict[str, Any],
    goal: str = "",
) -> Figure:
    """A search percentile beside the same percentile of the ILIKE scan."""
    return Figure(
        name=name,
        value=measured[pct],
        unit="ms",
        baseline_name="ILIKE scan",
        baseline=baseline[pct],
        goal=goal,
        notes=notes,
        extra=extra,
    )


def run(ctx: BenchContext) -> list[Figure]:
    _setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    figures: list[Figure] = []
    sizes = [1000, 10_000] if ctx.quick else [1000, 100_000]
    for size in sizes:
        label = f"{size // 1000}k"
        print(f"   loading {size} models", file=sys.stderr, flush=True)
        timings = _load(size, seed=size)
        print(
            f"   loaded in {timings['load_s']:.1f} s, indexed in {timings['index_s']:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        plain = summarize(_measure(facets=False))
        backend = summarize(_measure_backend())
        cold = summarize(_measure(facets=True, cache_seconds=0))
        warm = summarize(_measure(facets=True, cache_seconds=60))
        baseline = summarize(_measure_baseline())
        goal = "p95 <= 15 ms" if size >= 100_000 else ""
        notes = f"{len(QUERIES)} queries x {REPEAT}, page of 20 models loaded for cards"
        facets_notes = (
            "counts of all six facets computed every time (cache off); "
            "estimated from a sample when 1000 or more models match"
        )
        figures += [
            *(
                _vs_ilike(f"search {pct} @{label}", plain, baseline, pct, notes,
                          {"search": plain, "ilike": baseline}, goal if pct == "p95" else "")
                for pct in ("p50", "p95")
            ),
            _vs_ilike(f"search backend only p95 @{label}", backend, baseline, "p95",
                      "ids of the page and the total, no models loaded", {"backend": backend}),
            *(
                _vs_ilike(f"search + facets {pct} @{label}", cold, baseline, pct, facets_notes,
                          {"search_facets_cold": cold})
                for pct in ("p50", "p95")
            ),
            _vs_ilike(f"search + cached facets p95 @{label}", warm, baseline, "p95",
                      "facet counts from the cache (SEARCH_FACETS_CACHE_SECONDS=60)",
                      {"search_facets_warm": warm}),
        ]  # fmt: skip
        figures.append(
            Figure(
                name=f"build search documents @{label}",
                value=timings["index_s"],
                unit="s",
                baseline_name="bulk insert of the models",
                baseline=timings["load_s"],
                notes="documents.rebuild_all (what reindex does first): signatures, text, "
                "tsvector, vocabulary",
            )
        )
    return figures
