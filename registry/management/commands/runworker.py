"""`python manage.py runworker`: Vitrine's task worker.

The database task queue (django-tasks-db's worker) plus, in background threads, the
supervisor of this host's Cog processes and the reaper that fails or re-queues work left
behind by dead processes. Run as many as you like, on as many machines as you like.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from registry import backends, reaper

logger = logging.getLogger("registry.worker")


def _reap_forever(interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            reaper.reap()
        except Exception:
            logger.exception("The reaper failed")
        finally:
            close_old_connections()


class Command(DbWorkerCommand):
    help = "Run a task worker with the Cog instance supervisor and the reaper."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--reap-interval",
            type=float,
            default=settings.VITRINE_REAP_INTERVAL,
            help="Seconds between reaper runs (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        reap_interval = float(options.pop("reap_interval"))
        # Reloading would kill running builds and Cog processes on every code change.
        options["reload"] = False
        backend = backends.inference_backend()
        backend.start_supervisor()
        stop = threading.Event()
        threading.Thread(
            target=_reap_forever, args=(reap_interval, stop), name="reaper", daemon=True
        ).start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
            backend.stop_all()
