"""Running models: warm trivial prediction end to end vs the same coglet called directly,
and build times (cold environment, cached rebuild) vs a bare `uv venv` + install.

Goals (issue 3): end-to-end p50 ≤ direct p50 + 10 ms; cold build ≤ 30 s; cached rebuild ≤ 5 s.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import BenchContext, Figure, percentile, summarize
from bench.stack import ROOT, Stack, wait_build
from registry import archives

HELLO = ROOT / "tests" / "fixtures" / "cog" / "hello"
SMALL_MODEL = ROOT / "examples" / "qr-code"


def _push(
    client: httpx.Client, owner: str, name: str, project: Path
) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = client.post(
        f"/v1/models/{owner}/{name}/versions",
        files={"source": ("p.tar.gz", archives.pack(project), "application/gzip")},
    )
    response.raise_for_status()
    build = wait_build(client, response.json()["id"])
    if build["status"] != "succeeded":
        raise RuntimeError(f"build failed: {build['error']}\n{build['logs'][-2000:]}")
    return time.perf_counter() - started, build


def _create_model(client: httpx.Client, name: str) -> None:
    model = {"owner": "bench", "name": name, "visibility": "public", "hardware": "cpu"}
    client.post("/v1/models", json=model).raise_for_status()


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
    client.post(
        "/v1/models",
        json={"owner": "bench", "name": "qr", "visibility": "public", "hardware": "cpu"},
    )
    cold, build = _push(client, "bench", "qr", SMALL_MODEL)
    changed = stack.scratch / "qr-changed"
    shutil.copytree(SMALL_MODEL, changed)
    (changed / "predict.py").write_text((changed / "predict.py").read_text() + "\n# changed\n")
    cached, _ = _push(client, "bench", "qr", changed)
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


def _latency(ctx: BenchContext, client: httpx.Client, stack: Stack) -> list[Figure]:
    client.post(
        "/v1/models",
        json={"owner": "bench", "name": "hello", "visibility": "public", "hardware": "cpu"},
    )
    _, build = _push(client, "bench", "hello", HELLO)
    version = build["version"]
    body = {"version": version, "input": {"text": "x"}}
    # Warm up: the first run starts the coglet process.
    first = client.post("/v1/predictions", json=body, headers={"Prefer": "wait"}).json()
    boot = (first.get("metrics") or {}).get("boot_time")
    url = json.loads(
        stack.manage(
            "shell", "--no-imports", "-c",
            "import json;from registry.models import Instance;"
            "ready = Instance.objects.filter(status='ready');"
            "print(json.dumps(ready.values_list('url', flat=True)[0]))",
        )
    )  # fmt: skip
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
        return _builds(ctx, client, stack) + _latency(ctx, client, stack)
