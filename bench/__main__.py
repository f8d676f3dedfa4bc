"""`make bench`: run every `bench/bench_*.py`, print one table, write bench/results/latest.json.

Options: `--quick` (smaller sizes, for a smoke run) and `--only NAME` (repeatable).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

from bench.common import BenchContext, Figure, render_table, write_results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args(argv)
    ctx = BenchContext(quick=args.quick, only=args.only)
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    figures: list[Figure] = []
    for name in names:
        short = name.removeprefix("bench_")
        if args.only and short not in args.only:
            continue
        print(f"== {short}", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        figures.extend(module.run(ctx))
    print(render_table(figures))
    print(f"\nwritten to {write_results(figures)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
