"""A mixed-load client, run in its own process: `python -m bench.loadgen PLAN.json`.

N concurrent clients (threads, each with its own keep-alive `httpx.Client`) loop for a
fixed time, each request drawn by weight from the plan's kinds (schema lookups, searches,
prediction creates…). Prints JSON: per kind, the count, statuses, errors and latency
percentiles. An error is a transport failure or a status other than the kind's expected.
(asyncio + httpx was tried first: with 50 clients it stalled for seconds per request.)

Plan: {"url", "clients", "seconds", "seed", "kinds": [{"name", "weight", "method",
"paths": [...], "headers": {...}, "json": {...} | null, "expect": 200}]}
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from collections import Counter
from typing import Any

import httpx

from bench.common import summarize


def _client(
    plan: dict[str, Any], n: int, deadline: float, results: dict[str, dict[str, Any]]
) -> None:
    rng = random.Random(plan.get("seed", 1) * 1000 + n)
    kinds = plan["kinds"]
    weights = [k["weight"] for k in kinds]
    with httpx.Client(base_url=plan["url"], timeout=60) as client:
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            out = results[kind["name"]]
            path = rng.choice(kind["paths"])
            started = time.perf_counter()
            try:
                response = client.request(
                    kind["method"], path, headers=kind.get("headers"), json=kind.get("json")
                )
            except httpx.HTTPError as e:
                out["errors"].append(f"{type(e).__name__}: {e}")
                continue
            out["ms"].append((time.perf_counter() - started) * 1000)
            out["statuses"][response.status_code] += 1
            if response.status_code != kind.get("expect", 200):
                out["errors"].append(f"{response.status_code}: {response.text[:300]}")


def run(plan: dict[str, Any]) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {
        k["name"]: {"ms": [], "statuses": Counter(), "errors": []} for k in plan["kinds"]
    }
    started = time.monotonic()
    deadline = started + plan["seconds"]
    clients = [
        threading.Thread(target=_client, args=(plan, n, deadline, results))
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
                "count": len(r["ms"]),
                "rate": len(r["ms"]) / elapsed,
                "statuses": {str(k): v for k, v in r["statuses"].items()},
                "errors": len(r["errors"]),
                "error_samples": r["errors"][:5],
                "ms": summarize(r["ms"]),
            }
            for name, r in results.items()
        },
        "all_ms": summarize([ms for r in results.values() for ms in r["ms"]]),
    }


def main(argv: list[str]) -> int:
    with open(argv[0]) as f:
        plan = json.load(f)
    print(json.dumps(run(plan)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
