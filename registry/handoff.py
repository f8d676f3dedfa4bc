"""Hand free model slots to waiting runs, in the background of the process that noticed.

A slot frees when a run ends (Cog's webhook, a synchronous answer, a cancel) and a run
starts waiting when it is accepted. Either way the process that saw it calls
`kick(version_id)` after commit; a small pool of threads then gives the version's free
slots to its oldest waiting runs (`predictions.dispatch_waiting`), so a queued run starts
the moment a slot frees instead of when its worker task next polls, and the request that
noticed does not wait for it. Kicks for a version that is already being served are
coalesced into one more pass.

Losing a kick (the process dies) only delays runs: every waiting run also has its task
on the queue, and the reaper re-queues the ones whose task went quiet.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import close_old_connections

logger = logging.getLogger(__name__)

THREADS = 4

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_serving: set[str] = set()
_again: set[str] = set()
_passes = 0  # submitted and not yet finished


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="handoff")
        return _executor


def kick(version_id: str | None, *, freed: int | None = None) -> None:
    """Give the version's free slots to its waiting runs, soon, in the background.

    `freed`: the instance whose slot a run just gave back. Each such kick is a pass of
    its own, over that instance only (cheap, and they run side by side: one slot per
    ended run). Other kicks (a run was created) are coalesced per version."""
    if not version_id:
        return
    global _passes
    with _lock:
        if freed is None and version_id in _serving:
            _again.add(version_id)
            return
        if freed is None:
            _serving.add(version_id)
        _passes += 1
    if freed is not None:
        _pool().submit(_counted, _serve, version_id, freed)
    else:
        _pool().submit(_counted, _serve_coalesced, version_id)


def _counted(work: Callable[..., None], *args: Any) -> None:
    global _passes
    try:
        work(*args)
    finally:
        with _lock:
            _passes -= 1


def _serve(version_id: str, freed: int | None = None) -> None:
    from registry import predictions

    try:
        predictions.dispatch_waiting(version_id, freed=freed)
    except Exception:
        logger.exception("Handing slots of version %s to waiting runs failed", version_id)
    finally:
        close_old_connections()


def _serve_coalesced(version_id: str) -> None:
    while True:
        _serve(version_id)
        with _lock:
            if version_id not in _again:
                _serving.discard(version_id)
                return
            _again.discard(version_id)


def idle(timeout: float = 10.0) -> bool:
    """Wait until no pass is queued or running (tests)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _lock:
            if not _passes:
                return True
        time.sleep(0.01)
    return False
