"""Measurements that need Django itself, run as `python -m bench.inprocess COMMAND` with the
benchmark stack's environment (its database, DEBUG off), printing JSON on stdout:

- `pages`: server time and query count of the model list and the explore page, through
  Django's whole request path (middleware, views, templates) without the network; query
  counts from `CaptureQueriesContext`.
- `targets`: what the load uses — public versions to look up.
- `run-count OWNER/NAME`: a model's run count, its runs per day and its predictions.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def _measure(request: Callable[[], Any], repeat: int, before: Callable[[], None]) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.common import summarize

    samples: list[float] = []
    queries: list[int] = []
    for n in range(repeat + 3):
        before()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = request()
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.content[:500]!r}")
        if n >= 3:  # warm-up: imports, template loading, the connection
            samples.append(elapsed)
            queries.append(len(captured.captured_queries))
    return {"ms": summarize(samples), "queries": max(queries)}


def pages(repeat: int) -> dict[str, Any]:
    from django.core.cache import cache
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")

    def nothing() -> None:
        return None

    return {
        "model_list": _measure(lambda: client.get("/v1/models"), repeat, nothing),
        "explore_cold": _measure(lambda: client.get("/"), repeat, cache.clear),
        "explore_cached": _measure(lambda: client.get("/"), repeat, nothing),
    }


def targets(count: int) -> dict[str, Any]:
    from registry.models import MLModel

    models = (
        MLModel.objects.filter(visibility=MLModel.Visibility.PUBLIC, latest_version__isnull=False)
        .select_related("owner")
        .order_by("-run_count", "-id")[:count]
    )
    return {
        "versions": [
            f"/v1/models/{m.owner.username}/{m.name}/versions/{m.latest_version_id}" for m in models
        ]
    }


def run_count(full_name: str) -> dict[str, Any]:
    from django.db.models import Sum

    from registry.models import MLModel, ModelRunDay, Prediction

    owner, name = full_name.split("/")
    model = MLModel.objects.get(owner__username=owner, name=name)
    return {
        "run_count": model.run_count,
        "runs_per_day": ModelRunDay.objects.filter(model=model).aggregate(n=Sum("runs"))["n"] or 0,
        "predictions": Prediction.objects.filter(model=model).count(),
    }


def main(argv: list[str]) -> int:
    _setup()
    command, *args = argv
    if command == "pages":
        answer = pages(int(args[0]) if args else 30)
    elif command == "targets":
        answer = targets(int(args[0]) if args else 200)
    elif command == "run-count":
        answer = run_count(args[0])
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
