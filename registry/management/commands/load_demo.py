"""`python manage.py load_demo [--only NAME ...] [--synthetic N]`: the demo catalog.

The models under `examples/` get their covers, READMEs and collections at once; their
builds and example runs are queued for the task worker, so the site is usable while they
run. `--synthetic N` adds N generated models shaped like a large public catalog (they have
schemas but no runnable source), for trying search at scale.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry import demo, search, synthetic
from registry.models import MLModel


class Command(BaseCommand):
    help = "Load the demo catalog: build the models under examples/ and run their examples."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--only", nargs="*", help="Load only these example models.")
        parser.add_argument(
            "--synthetic",
            type=int,
            default=0,
            metavar="N",
            help="Also load N generated models shaped like Replicate's catalog (for search).",
        )

    def handle(self, *args: Any, only: list[str] | None, synthetic: int, **options: Any) -> None:
        queued = demo.load(only=set(only) if only else None, log=self.stdout.write)
        self.stdout.write(
            f"Demo catalog loaded; {len(queued)} build(s) queued for the worker."
            if queued
            else "Demo catalog loaded; nothing to build."
        )
        if synthetic:
            existing = {
                f"{owner}/{name}"
                for owner, name in MLModel.objects.values_list("owner__username", "name")
            }
            generated = synthetic_models(synthetic, existing)
            search.index_models(MLModel.objects.values_list("pk", flat=True))
            self.stdout.write(f"Added {generated} generated models.")


def synthetic_models(count: int, existing: set[str]) -> int:
    fresh = [m for m in synthetic.generate(count) if f"{m.owner}/{m.name}" not in existing]
    synthetic.load(fresh)
    return len(fresh)
