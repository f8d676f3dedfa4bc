"""A load client, run as its own process so that it does not share an interpreter (or a
GIL) with what it measures: `concurrency` clients (threads, each with its own keep-alive
`httpx.Client`; asyncio + httpx stalled for seconds per request at this concurrency) send
one request after another for `duration` seconds (or until `requests` were sent) and the
process prints what they saw as JSON.

    python -m bench.load_client --url http://127.0.0.1:8000 --path /v1/account \
        --header "Authorization: Bearer …" --concurrency 32 --duration 10

`run_load()` does that from a benchmark and returns a `LoadResult`.
"""

from __future__ import annotations

import argparse
import json
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
    """What the clients saw: status counts, latencies (ms) and the ids the server gave."""

    elapsed: float
    statuses: dict[int, int]
    latency: dict[str, float]
    ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # The `status` field of the answers (with `collect_ids`): "succeeded", "starting", …
    answers: dict[str, int] = field(default_factory=dict)

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)

    def rate(self, status: int) -> float:
        """Answers with `status` per second of the run."""
        return self.count(status) / self.elapsed if self.elapsed else 0.0


def _client(
    args: argparse.Namespace,
    headers: dict[str, str],
    body: bytes | None,
    stop_at: float,
    budget: list[int],
    lock: threading.Lock,
    seen: dict[str, Any],
) -> None:
    with httpx.Client(base_url=args.url, headers=headers, timeout=args.timeout) as http:
        while time.monotonic() < stop_at:
            with lock:
                if budget[0] == 0:
                    return
                budget[0] -= 1
            started = time.perf_counter()
            try:
                response = http.request(args.method, args.path, content=body)
            except httpx.HTTPError as e:
                with lock:
                    seen["errors"].append(f"{type(e).__name__}: {e}")
                    seen["statuses"][0] += 1
                continue
            elapsed = (time.perf_counter() - started) * 1000
            answer = response.json() if args.ids and response.status_code < 300 else None
            with lock:
                seen["latencies"].append(elapsed)
                seen["statuses"][response.status_code] += 1
                if answer is not None:
                    seen["ids"].append(str(answer.get("id")))
                    seen["answers"][str(answer.get("status"))] += 1
                elif response.status_code >= 400 and len(seen["errors"]) < 20:
                    seen["errors"].append(f"{response.status_code}: {response.text[:300]}")


def _load(args: argparse.Namespace) -> dict[str, Any]:
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    if args.body is not None:
        headers.setdefault("Content-Type", "application/json")
    body = args.body.encode() if args.body is not None else None
    seen: dict[str, Any] = {
        "latencies": [], "statuses": Counter(), "ids": [], "answers": Counter(), "errors": [],
    }  # fmt: skip
    lock = threading.Lock()
    started = time.monotonic()
    stop_at = started + args.duration
    budget = [args.requests or -1]
    clients = [
        threading.Thread(target=_client, args=(args, headers, body, stop_at, budget, lock, seen))
        for _ in range(args.concurrency)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    elapsed = time.monotonic() - started
    return {
        "elapsed": elapsed,
        "statuses": dict(seen["statuses"]),
        "latency": summarize(seen["latencies"]),
        "ids": seen["ids"],
        "answers": dict(seen["answers"]),
        "errors": seen["errors"][:20],
    }


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
    """Run the load client in its own process and wait for its report."""
    command = [
        sys.executable, "-m", "bench.load_client", "--url", url, "--path", path,
        "--method", method, "--concurrency", str(concurrency), "--duration", str(duration),
        "--requests", str(requests),
    ]  # fmt: skip
    for name, value in (headers or {}).items():
        command += ["--header", f"{name}: {value}"]
    if body is not None:
        command += ["--body", json.dumps(body)]
    if collect_ids:
        command.append("--ids")
    from bench.stack import ROOT

    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"load client failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    return LoadResult(
        elapsed=report["elapsed"],
        statuses={int(k): v for k, v in report["statuses"].items()},
        latency=report["latency"],
        ids=report["ids"],
        errors=report["errors"],
        answers=report["answers"],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_client")
    parser.add_argument("--url", required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--body")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--requests", type=int, default=0, help="stop after this many (0: none)")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--ids", action="store_true", help="report the `id` of each answer")
    args = parser.parse_args(argv)
    print(json.dumps(_load(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
