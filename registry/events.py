"""Waiting for a prediction or build to change, without a message broker.

Whoever changes a prediction calls `notify(key)` after commit; a waiter in the same
process wakes at once. Waiters also re-read the database on a short, growing interval,
so a change made by another process (another web worker, the task worker) is seen within
milliseconds at first and within a fraction of a second later on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_events: dict[str, set[threading.Event]] = {}

# Re-read intervals: fast while a quick prediction is likely to finish, then gentler.
POLL_SCHEDULE = ((0.05, 0.002), (0.5, 0.01), (5.0, 0.05), (float("inf"), 0.2))


def notify(key: str) -> None:
    with _lock:
        waiters = list(_events.get(key, ()))
    for event in waiters:
        event.set()


def _interval(elapsed: float) -> float:
    for until, interval in POLL_SCHEDULE:
        if elapsed < until:
            return interval
    return POLL_SCHEDULE[-1][1]


def wait_for(key: str, read: Callable[[], T], done: Callable[[T], bool], timeout: float) -> T:
    """Call `read` until `done(value)` or `timeout` seconds pass; return the last value."""
    event = threading.Event()
    with _lock:
        _events.setdefault(key, set()).add(event)
    started = time.monotonic()
    try:
        while True:
            event.clear()
            value = read()
            elapsed = time.monotonic() - started
            if done(value) or elapsed >= timeout:
                return value
            event.wait(min(_interval(elapsed), timeout - elapsed))
    finally:
        with _lock:
            waiters = _events.get(key)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    _events.pop(key, None)


def prediction_key(prediction_id: str) -> str:
    return f"prediction:{prediction_id}"


def build_key(build_id: str) -> str:
    return f"build:{build_id}"
