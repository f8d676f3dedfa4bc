"""The load client, run as its own process so that it does not share an interpreter (or a
GIL) with what it measures: `python -m bench.load_client < PLAN.json`.

`clients` threads, each with its own keep-alive `httpx.Client` (asyncio + httpx stalled for
seconds per request at this concurrency), send one request after another for `seconds`
(or until `requests` were sent), each drawn by weight from the plan's kinds. The process
prints what they saw as JSON: per kind, statuses, latency percentiles, errors (a transport
failure, or a status other than the kind's `expect`) and, with `ids`, the answers' ids.

Plan: {"url", "clients", "seconds", "requests"?, "seed"?, "timeout"?, "kinds": [{"name",
"weight", "method", "paths": [...], "headers"?, "json"?, "expect"?, "ids"?}]}

`run_plan()` does that from a benchmark; `run_load()` is the one-kind case.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.common import summarize


@dataclass
class LoadResult:
    """What the clients saw of one kind: status counts, latencies (ms) and the ids given."""

    elapsed: float
    statuses: dict[int, int]
    latency: dict[str, float]
    ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # The `status` field of the answers (with `ids`): "succeeded", "starting", …
    answers: dict[str, int] = field(default_factory=dict)

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)

    def rate(self, status: int) -> float:
        """Answers with `status` per second of the run."""
        return self.count(status) / self.elapsed if self.elapsed else 0.0


class _Seen:
    """One kind's tally, shared by the client threads under one lock."""

    def __init__(self) -> None:
        self.ms: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []
        self.error_count = 0
        self.ids: list[str] = []
        self.answers: Counter[str] = Counter()

    def failed(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < 20:
            self.errors.append(message)


def _client(plan: dict[str, Any], n: int, budget: list[int], lock: threading.Lock,
            seen: dict[str, _Seen]) -> None:  # fmt: skip
    rng = random.Random(plan.get("seed", 1) * 1000 + n)
    kinds = plan["kinds"]
    weights = [k.get("weight", 1) for k in kinds]
    deadline = time.monotonic() + plan["seconds"]
    with httpx.Client(base_url=plan["url"], timeout=plan.get("timeout", 60)) as http:
        while time.monotonic() < deadline:
            with lock:
                if budget[0] == 0:
                    return
                budget[0] -= 1
            kind = rng.choices(kinds, weights)[0]
            out = seen[kind["name"]]
            started = time.perf_counter()
            try:
                response = http.request(
                    kind.get("method", "GET"),
                    rng.choice(kind["paths"]),
                    headers=kind.get("headers"),
                    json=kind.get("json"),
                )
            except httpx.HTTPError as e:
                with lock:
                    out.statuses[0] += 1
                    out.failed(f"{type(e).__name__}: {e}")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            answer = response.json() if kind.get("ids") and response.status_code < 300 else None
            with lock:
                out.ms.append(elapsed)
                out.statuses[response.status_code] += 1
                if answer is not None:
                    out.ids.append(str(answer.get("id")))
                    out.answers[str(answer.get("status"))] += 1
                expect = kind.get("expect")
                if (response.status_code != expect) if expect else response.status_code >= 400:
                    out.failed(f"{response.status_code}: {response.text[:300]}")


def load(plan: dict[str, Any]) -> dict[str, Any]:
    """Run the plan in this process (what `python -m bench.load_client` does)."""
    seen = {kind["name"]: _Seen() for kind in plan["kinds"]}
    lock = threading.Lock()
    budget = [plan.get("requests") or -1]
    started = time.monotonic()
    clients = [
        threading.Thread(target=_client, args=(plan, n, budget, lock, seen))
        for n in range(plan["clients"])
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    elapsed = time.monotonic() - started
    return {
        "seconds": elapsed,
        "kinds": {
            name: {
                "count": len(s.ms),
                "rate": len(s.ms) / elapsed,
                "statuses": {str(k): v for k, v in s.statuses.items()},
                "errors": s.error_count,
                "error_samples": s.errors,
                "ms": summarize(s.ms),
                "ids": s.ids,
                "answers": dict(s.answers),
            }
            for name, s in seen.items()
        },
        "all_ms": summarize([ms for s in seen.values() for ms in s.ms]),
    }


def run_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """Run the plan in a process of its own and wait for its report."""
    from bench.stack import ROOT

    done = subprocess.run(
        [sys.executable, "-m", "bench.load_client"], input=json.dumps(plan), cwd=ROOT,
        capture_output=True, text=True, check=False, timeout=plan["seconds"] + 600,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"load client failed:\n{done.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def run_load(
    url: str,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: Any = None,
    concurrency: int = 32,
    duration: float = 10.0,
    requests: int = 0,
    collect_ids: bool = False,
) -> LoadResult:
    """One kind of request from `concurrency` clients, in a process of its own."""
    kind = {"name": path, "method": method, "paths": [path], "headers": headers or {},
            "json": body, "ids": collect_ids}  # fmt: skip
    plan = {"url": url, "clients": concurrency, "seconds": duration, "requests": requests,
            "kinds": [kind]}  # fmt: skip
    report = run_plan(plan)
    seen = report["kinds"][path]
    return LoadResult(
        elapsed=report["seconds"],
        statuses={int(k): v for k, v in seen["statuses"].items()},
        latency=seen["ms"],
        ids=seen["ids"],
        errors=seen["error_samples"],
        answers=seen["answers"],
    )


if __name__ == "__main__":
    print(json.dumps(load(json.load(sys.stdin))))
