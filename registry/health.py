"""`GET /healthz`: the state of the database, search, storage and inference backends."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from registry import backends, selectors
from registry.backends import Health

# Counts of rows that include private models (search documents, queued changes): for
# staff only, or anyone could watch them move as private models come and go.
STAFF_ONLY = frozenset({"documents", "pending_changes"})


def check_database() -> Health:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Health("ok", info={"vendor": connection.vendor})


def check_storage() -> Health:
    # A HEAD-like probe: answers for local folders and S3 buckets alike without writing.
    default_storage.exists("healthz-probe")
    return Health("ok", info={"backend": type(default_storage).__name__})


def check_search() -> Health:
    from registry.search.service import search_health

    return search_health()


def check_inference() -> Health:
    backend = backends.inference_backend()
    health: Health = backend.health()
    return health


# name -> (check, required for a 200)
CHECKS: dict[str, tuple[Callable[[], Health], bool]] = {
    "database": (check_database, True),
    "storage": (check_storage, True),
    "search": (check_search, False),  # a down search backend falls back to the database
    "inference": (check_inference, True),
}


def run_checks() -> tuple[bool, dict[str, dict[str, object]]]:
    healthy = True
    report: dict[str, dict[str, object]] = {}
    for name, (check, required) in CHECKS.items():
        started = time.perf_counter()
        try:
            result = check()
        except Exception as e:  # a health check reports failures, it never raises
            result = Health("down", f"{type(e).__name__}: {e}")
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        report[name] = {
            "status": result.status,
            "required": required,
            "latency_ms": elapsed_ms,
            **({"detail": result.detail} if result.detail else {}),
            **result.info,
        }
        if required and result.status == "down":
            healthy = False
    return healthy, report


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = run_checks()
    if not selectors.sees_everything(request.user):
        report = {
            name: {key: value for key, value in part.items() if key not in STAFF_ONLY}
            for name, part in report.items()
        }
    degraded = any(part["status"] != "ok" for part in report.values())
    status = "ok" if healthy and not degraded else ("degraded" if healthy else "down")
    return JsonResponse({"status": status, "checks": report}, status=200 if healthy else 503)
