"""`python manage.py load_demo [--only NAME ...]`: the demo catalog from `examples/`.

Models, covers, READMEs and collections are written at once; the builds and the example
runs are queued for the task worker, so the site is usable while they run.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry import demo


class Command(BaseCommand):
    help = "Load the demo catalog: build the models under examples/ and run their examples."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--only", nargs="*", help="Load only these example models.")

    def handle(self, *args: Any, only: list[str] | None, **options: Any) -> None:
        queued = demo.load(only=set(only) if only else None, log=self.stdout.write)
        self.stdout.write(
            f"Demo catalog loaded; {len(queued)} build(s) queued for the worker."
            if queued
            else "Demo catalog loaded; nothing to build."
        )
