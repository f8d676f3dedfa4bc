"""The read side and the mixed load, against a production-shaped stack (`bench/stack.py`:
gunicorn with DEBUG off and persistent connections, its own PostgreSQL database, task
workers), with the catalog written by `bench/catalog.py` (COPY).

Figures, each beside a baseline measured in the same run:
- catalog generation (100k models / 300k versions / 1M predictions) vs the ORM's
  `bulk_create` of a sample of the same predictions, scaled to the same count;
- model list (`GET /v1/models`) and explore page (`/`, cache cleared before each
  request, and cached): server time and query count at 100k models vs 1k;
- schema lookup `GET /v1/models/{o}/{n}/versions/{id}`, with and without
  `If-None-Match`: throughput and p50/p99 under `wrk` (a separate process, 16 keep-alive
  connections) vs `GET /v1/_ping`, a zero-query DRF view on the same server (bench/urls.py);
- mixed load: 50 concurrent clients (bench/load_client.py, threads in a separate
  process) looking up schemas, searching and creating predictions of a real Cog model:
  errors, p50/p99, and the model's run count afterwards vs the creates answered 201.

`--quick`: 10k models (30k versions, 100k predictions), shorter runs, 10 s of load.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import BenchContext, Figure
from bench.load_client import run_plan
from bench.stack import PYTHON, ROOT, Stack, publish

HELLO = ROOT / "tests" / "fixtures" / "cog" / "hello"
WRK_SCRIPT = Path(__file__).parent / "wrk_paths.lua"
SEARCHES = ["whisper", "stable diffusion", "speech to text", "upscale images", "llama chat",
            "input:image output:text", "anime", "sdxl lora"]  # fmt: skip


def _log(message: str) -> None:
    print(f"   {message}", file=sys.stderr, flush=True)


def _python(stack: Stack, *args: str, timeout: float = 1800) -> Any:
    """Run `python -m bench.inprocess …` with the stack's environment; its JSON answer."""
    env = stack.env | {"DJANGO_SETTINGS_MODULE": "bench.settings"}
    result = subprocess.run(
        [PYTHON, "-m", "bench.inprocess", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"bench.inprocess {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# Catalog ------------------------------------------------------------------------------


def _catalog(stack: Stack, models: int, *, replace: bool) -> dict[str, float]:
    started = time.perf_counter()
    out = stack.manage(
        "bench_catalog", "--models", str(models), "--versions", str(3 * models),
        "--predictions", str(10 * models), *(["--replace"] if replace else []),
    )  # fmt: skip
    total = time.perf_counter() - started
    summary = out.splitlines()[-1].split(":", 1)[1]
    seconds = {k: float(v) for k, v in (pair.split("=") for pair in summary.split())}
    _log(f"catalog of {models} models in {total:.1f} s ({summary.strip()})")
    return seconds | {"total": total}


_ORM_SAMPLE = """
import time
from django.contrib.auth.models import User
from registry.models import MLModel, Prediction
model = MLModel.objects.select_related("latest_version").order_by("id").first()
user = User.objects.get(username="bench-catalog")
rows = [Prediction(model=model, version=model.latest_version, version_ref=model.latest_version_id,
                   created_by=user, status="succeeded", input={"prompt": f"orm {n}"},
                   output="done", metrics={"predict_time": 0.5}) for n in range({n})]
started = time.perf_counter()
Prediction.objects.bulk_create(rows, batch_size=2000)
print(time.perf_counter() - started)
Prediction.objects.filter(input__prompt__startswith="orm ").delete()
"""


def _orm_insert_seconds(stack: Stack, sample: int) -> float:
    """Seconds `bulk_create` takes for `sample` predictions (the rows COPY writes most of)."""
    code = _ORM_SAMPLE.replace("{n}", str(sample))
    return float(stack.manage("shell", "--no-imports", "-c", code).splitlines()[-1])


def _catalog_figures(
    label: str, seconds: dict[str, float], predictions: int, orm_sample: tuple[int, float]
) -> list[Figure]:
    sample, orm_seconds = orm_sample
    orm_scaled = orm_seconds * predictions / sample
    return [
        Figure(
            f"catalog generation (COPY) @{label}", seconds["copy"], "s",
            f"bulk_create of {predictions} predictions alone, from {sample}", orm_scaled,
            notes="owners, models, tags, versions, predictions, runs per day; without search",
            extra=seconds,
        ),
        Figure(
            f"search documents rebuild @{label}", seconds.get("search", 0.0), "s",
            "catalog COPY", seconds["copy"],
            notes="documents.rebuild_all, the reindex path (owned by search)",
        ),
    ]  # fmt: skip


# Pages: server time and queries -------------------------------------------------------


def _pages(stack: Stack, repeat: int) -> dict[str, Any]:
    answer: dict[str, Any] = _python(stack, "pages", str(repeat))
    return answer


def _page_figures(small: dict[str, Any], large: dict[str, Any], s: str, l: str) -> list[Figure]:  # noqa: E741
    names = {
        "model_list": "GET /v1/models",
        "explore_cold": "explore page /, cache cleared",
        "explore_cached": "explore page /, cached",
    }
    figures = []
    for key, name in names.items():
        figures.append(
            Figure(
                f"{name} p50 @{l}", large[key]["ms"]["p50"], "ms", f"same @{s}",
                small[key]["ms"]["p50"], goal="ratio ≤ 1.5",
                extra={"large": large[key], "small": small[key]},
            )
        )  # fmt: skip
        figures.append(
            Figure(
                f"{name} queries @{l}", large[key]["queries"], "queries", f"same @{s}",
                small[key]["queries"], goal="≤ 10",
            )
        )  # fmt: skip
    return figures


# Schema lookups under wrk -------------------------------------------------------------


def _wrk(
    url: str, paths: list[tuple[str, str]], *, etag: bool, seconds: int, scratch: Path
) -> dict[str, Any]:
    listing = scratch / "wrk-paths.txt"
    listing.write_text("".join(f"{p}\t{e}\n" for p, e in paths))
    env = os.environ | {"WRK_PATHS": str(listing), "WRK_ETAG": "1" if etag else "0"}
    result = subprocess.run(
        ["wrk", "-t1", "-c16", f"-d{seconds}s", "-s", str(WRK_SCRIPT), url],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(x for x in result.stdout.splitlines() if x.startswith("{"))
    answer: dict[str, Any] = json.loads(line)
    return answer


def _wrk_rounds(
    stack: Stack, ctx: BenchContext, plans: dict[str, tuple[list[tuple[str, str]], bool]]
) -> dict[str, dict[str, Any]]:
    """Each plan (paths, send If-None-Match) under wrk, interleaved round by round so that
    all see the same machine: requests per second, p50 and p99 (ms), and the raw runs."""
    seconds, rounds = (3, 2) if ctx.quick else (8, 3)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in plans}
    _wrk(stack.url, [("/v1/_ping", "")], etag=False, seconds=2, scratch=stack.scratch)  # warm up
    for _ in range(rounds):
        for name, (paths, etag) in plans.items():
            runs[name].append(
                _wrk(stack.url, paths, etag=etag, seconds=seconds, scratch=stack.scratch)
            )
    combined = {}
    for name, got in runs.items():
        errors = sum(r["errors"] for r in got)
        if errors:
            raise RuntimeError(f"{name}: {errors} errors under wrk: {got}")
        combined[name] = {
            "rps": sum(r["requests"] for r in got) / sum(r["duration_us"] / 1e6 for r in got),
            "p50": sorted(r["p50_us"] for r in got)[len(got) // 2] / 1000,
            "p99": max(r["p99_us"] for r in got) / 1000,
            "runs": got,
        }
    return combined


def _schema_figures(stack: Stack, ctx: BenchContext, label: str) -> list[Figure]:
    """Schema lookups with the lookup cache (the default) and with it turned off (the
    web server restarted with `VITRINE_LOOKUP_CACHE_MB=0`), each beside its own ping."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing: `make bench` installs it (Debian package wrk).")
    targets = _python(stack, "targets", "200")["versions"]
    with httpx.Client(base_url=stack.url) as client:
        paths = [(p, client.get(p).headers["ETag"]) for p in targets]
    ping = [("/v1/_ping", "")]
    cached = _wrk_rounds(
        stack, ctx, {"ping": (ping, False), "lookup": (paths, False), "lookup_304": (paths, True)}
    )
    stack.restart(VITRINE_LOOKUP_CACHE_MB="0")
    uncached = _wrk_rounds(stack, ctx, {"ping": (ping, False), "lookup": (paths, False)})
    del stack.env["VITRINE_LOOKUP_CACHE_MB"]
    stack.restart()
    _log(f"wrk: cached {cached}, uncached {uncached}")
    figures = []
    for name, got, base, goal in (
        ("schema lookup", cached["lookup"], cached["ping"], "≥ 0.8x"),
        ("schema lookup, If-None-Match → 304", cached["lookup_304"], cached["ping"], "≥ 0.8x"),
        ("schema lookup, lookup cache off", uncached["lookup"], uncached["ping"], ""),
    ):
        figures += [
            Figure(f"{name} throughput @{label}", got["rps"], "req/s", "GET /v1/_ping",
                   base["rps"], goal=goal, extra={"wrk": got["runs"], "ping": base["runs"]}),
            Figure(f"{name} p50 @{label}", got["p50"], "ms", "GET /v1/_ping", base["p50"]),
            Figure(f"{name} p99 @{label}", got["p99"], "ms", "GET /v1/_ping", base["p99"]),
        ]  # fmt: skip
    return figures


# Mixed load ---------------------------------------------------------------------------


def _load_figures(stack: Stack, ctx: BenchContext, token: str, label: str) -> list[Figure]:
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=stack.url, headers=auth, timeout=600) as client:
        version = publish(client, "hello", HELLO)
    before = _python(stack, "run-count", "bench/hello")
    lookups = _python(stack, "targets", "500")["versions"]
    plan = {
        "url": stack.url,
        "clients": 50,
        "seconds": 10 if ctx.quick else 60,
        "kinds": [
            {"name": "schema lookup", "weight": 6, "method": "GET", "paths": lookups},
            {"name": "search", "weight": 2, "method": "GET",
             "paths": [f"/v1/search?query={q}&limit=20" for q in SEARCHES]},
            {"name": "prediction create", "weight": 2, "method": "POST",
             "paths": ["/v1/predictions"], "headers": auth, "expect": 201,
             "json": {"version": version, "input": {"text": "load"}}},
        ],
    }  # fmt: skip
    load = run_plan(plan)
    after = _python(stack, "run-count", "bench/hello")
    kinds = load["kinds"]
    created = kinds["prediction create"]["statuses"].get("201", 0)
    errors = sum(k["errors"] for k in kinds.values())
    _log(f"load: {json.dumps(kinds)}")
    counted = after["run_count"] - before["run_count"]
    total = sum(k["count"] for k in kinds.values())
    note = f"50 clients, {plan['seconds']} s: lookups 60%, searches 20%, creates 20%"
    figures = [
        Figure(f"mixed load errors @{label}", errors, "errors", "requests", total, goal="0",
               notes=note, extra={"load": load}),
        Figure(f"mixed load throughput @{label}", total / load["seconds"], "req/s", notes=note),
        Figure(f"mixed load p50 @{label}", load["all_ms"]["p50"], "ms", notes=note),
        Figure(f"mixed load p99 @{label}", load["all_ms"]["p99"], "ms", notes=note),
        Figure(f"mixed load run count increase @{label}", counted, "runs",
               "creates answered 201", created, goal="= 1.00x (exact)",
               extra={"before": before, "after": after}),
    ]  # fmt: skip
    for name, kind in kinds.items():
        figures.append(
            Figure(f"mixed load {name} p99 @{label}", kind["ms"]["p99"], "ms",
                   f"{name} p50", kind["ms"]["p50"], notes=f"{kind['count']} requests")
        )  # fmt: skip
    return figures


def run(ctx: BenchContext) -> list[Figure]:
    scratch = ctx.scratch / "api"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    small, large = 1000, (10_000 if ctx.quick else 100_000)
    s, l = f"{small // 1000}k", f"{large // 1000}k"  # noqa: E741
    repeat = 10 if ctx.quick else 30
    figures: list[Figure] = []
    with Stack.create(
        "api", scratch, DJANGO_SETTINGS_MODULE="bench.settings",
        VITRINE_ENVS_DIR=str(scratch / "envs"), UV_CACHE_DIR=str(scratch / "uv-cache"),
    ) as stack:  # fmt: skip
        _catalog(stack, small, replace=False)
        small_pages = _pages(stack, repeat)
        seconds = _catalog(stack, large, replace=True)
        orm_sample = (20_000, _orm_insert_seconds(stack, 20_000))
        figures += _catalog_figures(l, seconds, 10 * large, orm_sample)
        large_pages = _pages(stack, repeat)
        figures += _page_figures(small_pages, large_pages, s, l)
        token = stack.manage("createtoken", "bench")
        stack.start_web(workers=2, threads=8)
        figures += _schema_figures(stack, ctx, l)
        stack.start_worker("builds")
        stack.start_worker("predictions,webhooks,default,search")
        figures += _load_figures(stack, ctx, token, l)
    return figures
