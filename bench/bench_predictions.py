"""Running models, each figure beside a baseline measured in the same run:

- prediction create rate (POST /v1/predictions, no wait, many clients from a separate
  process) vs an authenticated trivial JSON view (`GET /v1/account`) on the same server,
  then the run counts checked exact and every accepted run followed to its end;
- warm trivial prediction end to end vs the same coglet called directly;
- 16 concurrent waiting clients on one version served by 1 and by 4 instances vs the 4
  coglets called directly through an ideal dispatcher (a free instance, or the next one
  to free up);
- build times (cold environment, cached rebuild) vs a bare `uv venv` + install.

Goals (issues 3 and 6): create rate ≥ 300/s with exact run counts; end-to-end p50 ≤ direct
p50 + 10 ms; cold build ≤ 30 s; cached rebuild ≤ 5 s.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import BenchContext, Figure, percentile, summarize
from bench.load_client import run_load
from bench.stack import ROOT, Stack, create_model, publish, push

HELLO = ROOT / "tests" / "fixtures" / "cog" / "hello"
SMALL_MODEL = ROOT / "examples" / "qr-code"


def _bare_install_seconds(scratch: Path, uv_cache: Path) -> float:
    """The floor for a cold build: a virtualenv with cog and the same packages, nothing else."""
    import yaml

    config = yaml.safe_load((SMALL_MODEL / "cog.yaml").read_text())
    target = scratch / "bare-venv"
    shutil.rmtree(target, ignore_errors=True)
    uv = shutil.which("uv") or str(Path(__import__("sys").executable).with_name("uv"))
    env = {**__import__("os").environ, "UV_CACHE_DIR": str(uv_cache)}
    started = time.perf_counter()
    subprocess.run([uv, "venv", "-q", "--python", "3.11", str(target)], check=True, env=env)
    subprocess.run(
        [uv, "pip", "install", "-q", "--compile-bytecode", "--python", str(target / "bin/python"),
         "cog==0.23.1", *config["build"]["python_packages"]],
        check=True, env=env,
    )  # fmt: skip
    return time.perf_counter() - started


def _builds(ctx: BenchContext, client: httpx.Client, stack: Stack) -> list[Figure]:
    create_model(client, "qr")
    cold, build = push(client, "qr", SMALL_MODEL)
    changed = stack.scratch / "qr-changed"
    shutil.copytree(SMALL_MODEL, changed)
    (changed / "predict.py").write_text((changed / "predict.py").read_text() + "\n# changed\n")
    cached, _ = push(client, "qr", changed)
    floor = _bare_install_seconds(stack.scratch, Path(stack.env["UV_CACHE_DIR"]) / "floor")
    return [
        Figure(
            "cold build of examples/qr-code (empty uv cache)",
            cold, "s", "bare uv venv + install (empty cache)", floor, goal="≤ 30 s",
            extra={"build_metrics": build.get("metrics")},
        ),
        Figure(
            "cached rebuild (same dependencies, changed code)",
            cached, "s", "cold build", cold, goal="≤ 5 s",
        ),
    ]  # fmt: skip


_direct_client = httpx.Client(timeout=30)


def _direct(url: str) -> float:
    """One synchronous prediction straight to coglet (keep-alive, as Vitrine's dispatcher
    does); retried on the brief 409 coglet answers right after a run."""
    while True:
        started = time.perf_counter()
        response = _direct_client.post(f"{url}/predictions", json={"input": {"text": "x"}})
        elapsed = time.perf_counter() - started
        if response.status_code == 200:
            return elapsed * 1000
        time.sleep(0.001)


def _stack_json(stack: Stack, code: str) -> Any:
    """What `code` (run in `manage.py shell` of the stack) prints as JSON."""
    return json.loads(stack.manage("shell", "--no-imports", "-c", code))


def _ready_urls(stack: Stack, version: str) -> list[str]:
    urls: list[str] = _stack_json(
        stack,
        "import json;from registry.models import Instance;"
        f"ready = Instance.objects.filter(status='ready', version_id='{version}').order_by('id');"
        "print(json.dumps(list(ready.values_list('url', flat=True))))",
    )
    return urls


def _latency(ctx: BenchContext, client: httpx.Client, stack: Stack, version: str) -> list[Figure]:
    body = {"version": version, "input": {"text": "x"}}
    # Warm up: the first run starts the coglet process.
    first = client.post("/v1/predictions", json=body, headers={"Prefer": "wait"}).json()
    boot = (first.get("metrics") or {}).get("boot_time")
    url = _ready_urls(stack, version)[0]
    n = 50 if ctx.quick else 300
    e2e: list[float] = []
    direct: list[float] = []
    for _ in range(10):
        client.post("/v1/predictions", json=body, headers={"Prefer": "wait"})
        _direct(url)
    for _ in range(n):  # interleaved, so both see the same machine state
        started = time.perf_counter()
        answer = client.post("/v1/predictions", json=body, headers={"Prefer": "wait"})
        e2e.append((time.perf_counter() - started) * 1000)
        if answer.json()["status"] != "succeeded":
            raise RuntimeError(f"prediction did not finish: {answer.json()}")
        direct.append(_direct(url))
    e2e_stats, direct_stats = summarize(e2e), summarize(direct)
    return [
        Figure(
            "warm trivial prediction, Prefer: wait, p50", e2e_stats["p50"], "ms",
            "same coglet, direct sync POST, p50", direct_stats["p50"],
            goal="≤ direct + 10 ms",
            extra={"e2e": e2e_stats, "direct": direct_stats, "boot_time_s": boot},
        ),
        Figure(
            "warm trivial prediction, Prefer: wait, p95", percentile(e2e, 95), "ms",
            "direct p95", percentile(direct, 95),
        ),
    ]  # fmt: skip


RUN_COUNTS = """
import json
from django.db.models import Count, Sum
from registry.models import MLModel, ModelRunDay, Prediction
model = MLModel.objects.get(owner__username="bench", name="{name}")
print(json.dumps({{
    "run_count": model.run_count,
    "run_days": ModelRunDay.objects.filter(model=model).aggregate(n=Sum("runs"))["n"] or 0,
    "stored": Prediction.objects.filter(model=model).count(),
    "by_status": dict(Prediction.objects.filter(model=model).values_list("status")
                      .annotate(n=Count("id")).values_list("status", "n")),
}}))
"""


def _run_counts(stack: Stack, name: str) -> dict[str, Any]:
    counts: dict[str, Any] = _stack_json(stack, RUN_COUNTS.format(name=name))
    return counts


def _create_rate(ctx: BenchContext, stack: Stack, token: str) -> list[Figure]:
    """As many creates as 64 clients can send (no wait), then every accepted run followed
    to its end and the counts compared with the number of 201s."""
    client = httpx.Client(
        base_url=stack.url, headers={"Authorization": f"Bearer {token}"}, timeout=600
    )
    version = publish(client, "hello-rate", HELLO)
    body = {"version": version, "input": {"text": "x"}}
    client.post("/v1/predictions", json=body, headers={"Prefer": "wait"}).raise_for_status()
    before = _run_counts(stack, "hello-rate")
    auth = {"Authorization": f"Bearer {token}"}
    seconds = 5.0 if ctx.quick else 15.0
    baseline = run_load(stack.url, "/v1/account", headers=auth, concurrency=64, duration=seconds)
    load = run_load(
        stack.url, "/v1/predictions", method="POST", headers=auth, body=body,
        concurrency=64, duration=seconds, collect_ids=True,
    )  # fmt: skip
    accepted = load.count(201)
    started = time.monotonic()
    counts = _run_counts(stack, "hello-rate")
    while counts["by_status"].get("starting", 0) + counts["by_status"].get("processing", 0):
        if time.monotonic() - started > 600:
            break
        time.sleep(1.0)
        counts = _run_counts(stack, "hello-rate")
    drained = time.monotonic() - started
    new_runs = counts["run_count"] - before["run_count"]
    exact = (
        new_runs == accepted
        and counts["run_days"] - before["run_days"] == accepted
        and counts["stored"] - before["stored"] == accepted
    )
    succeeded = counts["by_status"].get("succeeded", 0) - before["by_status"].get("succeeded", 0)
    if not exact or load.errors:
        raise RuntimeError(
            f"run counts are not exact: {accepted} accepted, before {before}, after {counts}; "
            f"errors: {load.errors[:5]}"
        )
    return [
        Figure(
            "prediction create rate (no wait, 64 clients)", load.rate(201), "/s",
            "GET /v1/account (authenticated trivial JSON view)", baseline.rate(200),
            goal="≥ 300/s, counts exact",
            notes=f"{accepted} accepted; run_count, runs per day and stored rows all +{accepted}",
            extra={"create": load.latency, "baseline": baseline.latency,
                   "statuses": load.statuses, "counts_after": counts},
        ),
        Figure(
            "prediction create p99 (no wait, 64 clients)", load.latency["p99"], "ms",
            "GET /v1/account p99", baseline.latency["p99"],
        ),
        Figure(
            "created runs finished (1 instance)", succeeded / max(drained + seconds, 1e-9), "/s",
            "create rate", load.rate(201),
            notes=f"{succeeded} of {accepted} succeeded {drained:.1f} s after the load stopped",
            extra={"drain_seconds": drained, "by_status": counts["by_status"]},
        ),
    ]  # fmt: skip


def _ideal_direct(urls: list[str], clients: int, seconds: float, payload: dict[str, Any]) -> Any:
    """The floor for N instances: `clients` callers put their runs in one first-come
    first-served line, and one runner per coglet takes the next run as soon as its last
    one ends (a direct synchronous POST): an ideal dispatcher with no overhead."""
    line: queue.Queue[threading.Event] = queue.Queue()
    samples: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    done = threading.Event()
    http = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=2 * len(urls)))

    def runner(url: str) -> None:
        while not done.is_set():
            try:
                finished = line.get(timeout=0.1)
            except queue.Empty:
                continue
            while http.post(f"{url}/predictions", json=payload).status_code == 409:
                time.sleep(0.001)
            finished.set()

    def caller() -> None:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            finished = threading.Event()
            line.put(finished)
            finished.wait()
            with lock:
                samples.append((time.perf_counter() - started) * 1000)

    started = time.monotonic()
    runners = [threading.Thread(target=runner, args=(url,)) for url in urls]
    callers = [threading.Thread(target=caller) for _ in range(clients)]
    for thread in runners + callers:
        thread.start()
    for thread in callers:
        thread.join()
    elapsed = time.monotonic() - started
    done.set()
    for thread in runners:
        thread.join()
    return len(samples) / elapsed, summarize(samples)


def _warm(
    client: httpx.Client,
    body: dict[str, Any],
    headers: dict[str, str],
    stack: Stack,
    version: str,
    instances: int,
) -> None:
    """Keep 16 runs in flight until `instances` are ready: queued runs make workers start
    instances."""
    for _ in range(30):
        threads = [
            threading.Thread(
                target=lambda: client.post("/v1/predictions", json=body, headers=headers)
            )
            for _ in range(16)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if len(_ready_urls(stack, version)) >= instances:
            return
    raise RuntimeError("the instances did not all start")


def _instances(ctx: BenchContext, stack: Stack, token: str) -> list[Figure]:
    """16 clients waiting on runs of 0.2 s: 1 instance, then 4, then the 4 coglets direct."""
    auth = {"Authorization": f"Bearer {token}"}
    client = httpx.Client(base_url=stack.url, headers=auth, timeout=600)
    version = publish(client, "hello-many", HELLO)
    run = {"text": "x", "sleep": 0.01}  # hello sleeps in steps of 0.2 s
    body = {"version": version, "input": run}
    seconds = 6.0 if ctx.quick else 20.0
    wait = {**auth, "Prefer": "wait"}
    results = {}
    for instances in (1, 4):
        stack.restart(VITRINE_MAX_INSTANCES_PER_VERSION=str(instances))
        _warm(client, body, wait, stack, version, instances)
        results[instances] = run_load(
            stack.url, "/v1/predictions", method="POST", headers=wait, body=body,
            concurrency=16, duration=seconds, collect_ids=True,
        )  # fmt: skip
    urls = _ready_urls(stack, version)
    if len(urls) != 4:
        raise RuntimeError(f"expected 4 ready instances, found {urls}")
    direct_rate, direct = _ideal_direct(urls, 16, seconds, {"input": run})
    one, four = results[1], results[4]
    for result in (one, four):
        if result.errors or set(result.answers) != {"succeeded"}:
            raise RuntimeError(f"runs did not all succeed: {result.answers} {result.errors[:5]}")
    return [
        Figure(
            "runs/s, 4 instances, 16 waiting clients (0.2 s runs)", four.rate(201), "/s",
            "4 coglets direct, ideal dispatcher", direct_rate, goal="≈ 4x one instance",
            extra={"one_instance_rate": one.rate(201), "four": four.latency,
                   "one": one.latency, "direct": direct},
        ),
        Figure(
            "runs/s, 1 instance, 16 waiting clients (0.2 s runs)", one.rate(201), "/s",
            "4 instances", four.rate(201),
        ),
        Figure(
            "p50, 4 instances, 16 waiting clients", four.latency["p50"], "ms",
            "4 coglets direct p50", direct["p50"], extra={"one_instance_p50": one.latency["p50"]},
        ),
        Figure(
            "p99, 4 instances, 16 waiting clients", four.latency["p99"], "ms",
            "4 coglets direct p99", direct["p99"], extra={"one_instance_p99": one.latency["p99"]},
        ),
    ]  # fmt: skip


def run(ctx: BenchContext) -> list[Figure]:
    scratch = ctx.scratch / "predictions"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    uv_cache = scratch / "uv-cache"
    with Stack.create(
        "predictions", scratch, VITRINE_ENVS_DIR=str(scratch / "envs"), UV_CACHE_DIR=str(uv_cache)
    ) as stack:
        token = stack.manage("createtoken", "bench")
        stack.start_web()
        stack.start_worker("builds")
        stack.start_worker("predictions,webhooks,default,search")
        client = httpx.Client(
            base_url=stack.url, headers={"Authorization": f"Bearer {token}"}, timeout=600
        )
        figures = _builds(ctx, client, stack)
        figures += _latency(ctx, client, stack, publish(client, "hello", HELLO))
        figures += _create_rate(ctx, stack, token)
        return figures + _instances(ctx, stack, token)
