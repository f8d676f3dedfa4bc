"""Vitrine's benchmarks, run by `make bench` (never as timed tests).

Each `bench/bench_*.py` module exposes `run(ctx: BenchContext) -> list[Figure]`; every
figure is reported beside a baseline measured in the same run.
"""
