"""`python manage.py bench_catalog --models 100000 --versions 300000 --predictions 1000000`:
a large catalog for benchmarks, written with PostgreSQL COPY (see `bench/catalog.py`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Fill the database with a benchmark catalog (PostgreSQL COPY), then index search."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--models", type=int, default=100_000)
        parser.add_argument("--versions", type=int, default=None, help="Default: 3 per model.")
        parser.add_argument("--predictions", type=int, default=None, help="Default: 10 per model.")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--replace", action="store_true", help="Empty the catalog's tables first."
        )
        parser.add_argument(
            "--no-search", action="store_true", help="Do not rebuild the search documents."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from bench import catalog

        models: int = options["models"]
        try:
            timings = catalog.generate(
                models=models,
                versions=options["versions"] or 3 * models,
                predictions=options["predictions"]
                if options["predictions"] is not None
                else 10 * models,
                seed=options["seed"],
                replace=options["replace"],
                search=not options["no_search"],
                log=self.stdout.write,
            )
        except (RuntimeError, ValueError) as e:
            raise CommandError(str(e)) from e
        for table, rows in timings.rows.items():
            self.stdout.write(f"  {table}: {rows} rows in {timings.seconds[table]:.1f} s")
        summary = " ".join(f"{k}={v:.2f}" for k, v in timings.seconds.items())
        self.stdout.write(self.style.SUCCESS(f"Benchmark catalog ready: {summary}"))
