"""Waiting for a prediction or build to change, without a message broker.

Whoever changes a prediction calls `notify(key)` after commit (or `notify_on_commit(key)`
within the transaction); a waiter in the same process wakes at once. On PostgreSQL the key
also goes out with `NOTIFY`, and a listener thread in every process that has waiters wakes
them: a run finished by a webhook that landed on another web worker (or by a task worker)
is seen within a millisecond, not at the next re-read. Waiters still re-read the database
on an interval, as a safety net (and as the only way on SQLite): quickly while no listener
is connected, gently while one is.

The same listener hears the catalog changes that database triggers announce (migration
0012), for the schema lookups cached in memory (`registry.lookup_cache`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import connection, connections, transaction

T = TypeVar("T")

logger = logging.getLogger(__name__)

CHANNEL = "vitrine_events"
# Sent by database triggers (migration 0012) when a model, version or owner changes in a
# way that can make a cached schema lookup wrong (`registry.lookup_cache`).
CATALOG_CHANNEL = "vitrine_catalog"

_lock = threading.Lock()
_events: dict[str, set[threading.Event]] = {}
# Called on every catalog change, and when the listener hangs up (then changes go unheard).
_catalog_subscribers: list[Callable[[], None]] = []

# Re-read intervals: fast while a quick prediction is likely to finish, then gentler.
POLL_SCHEDULE = ((0.05, 0.002), (0.5, 0.01), (5.0, 0.05), (float("inf"), 0.2))
# With a listener connected, re-reads only catch what a dropped connection missed.
LISTENING_POLL = 0.5
# A listener with no waiters for this long hangs up (and starts again when needed).
LISTENER_IDLE_SECONDS = 5.0
# After the listener's connection failed, it is not tried again for this long.
RECONNECT_SECONDS = 1.0


def _wake(key: str) -> None:
    with _lock:
        waiters = list(_events.get(key, ()))
    for event in waiters:
        event.set()


def _send(key: str) -> None:
    expression, params = notify_sql(key)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {expression}", params)


def notify_on_commit(key: str) -> None:
    """`notify(key)` once the current transaction commits. Inside one, on PostgreSQL, the
    NOTIFY is sent now: PostgreSQL delivers it at commit (and drops it on rollback), so it
    costs no commit of its own; waiters here wake after commit."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        _send(key)
        transaction.on_commit(lambda: _wake(key))
    else:
        transaction.on_commit(lambda: notify(key))


def sent_on_commit(key: str) -> None:
    """The caller's own statement sent `key`'s NOTIFY (`notify_sql`): wake the waiters of
    this process once the transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _wake(key))


def notify_sql(key: str) -> tuple[str, list[str]]:
    """An SQL expression sending `key`'s NOTIFY (PostgreSQL), to put in a statement."""
    return "pg_notify(%s, %s)", [CHANNEL, key]


def notify(key: str) -> None:
    """Wake the waiters of `key`, here and (on PostgreSQL) in every other process."""
    _wake(key)
    if connection.vendor == "postgresql":
        try:
            _send(key)
        except Exception:  # waiters re-read anyway; a lost wake-up only costs time
            logger.warning("Could not send a change notification", exc_info=True)


class _Listener:
    """One thread per process: LISTEN on its own connection while anyone waits, or for as
    long as anyone follows catalog changes."""

    def __init__(self) -> None:
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._retry_at = 0.0  # after a failed connection, not again before this

    def ensure_running(self) -> None:
        if connection.vendor != "postgresql" or time.monotonic() < self._retry_at:
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, name="events-listener", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        import psycopg

        try:
            params = connections["default"].get_connection_params()
            with psycopg.connect(**params, autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                conn.execute(f"LISTEN {CATALOG_CHANNEL}")
                self.connected.set()
                idle_since = time.monotonic()
                while not self._stop.is_set():
                    for note in conn.notifies(timeout=0.5):
                        if note.channel == CATALOG_CHANNEL:
                            _catalog_changed()
                        else:
                            _wake(note.payload)
                    with _lock:
                        waiting = bool(_events) or bool(_catalog_subscribers)
                    if waiting:
                        idle_since = time.monotonic()
                    elif time.monotonic() - idle_since > LISTENER_IDLE_SECONDS:
                        return
        except Exception:
            self._retry_at = time.monotonic() + RECONNECT_SECONDS
            logger.warning("Change notifications unavailable; re-reading instead", exc_info=True)
        finally:
            # First no longer connected, then announced: whoever holds what a missed
            # change could make wrong drops it, and keeps nothing new until reconnected.
            self.connected.clear()
            _catalog_changed()

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)


_listener = _Listener()


def _catalog_changed() -> None:
    for callback in list(_catalog_subscribers):
        callback()


def follow_catalog(callback: Callable[[], None]) -> None:
    """Call `callback` (in the listener's thread) whenever a model, version or owner
    changes in a way that can make a cached schema lookup wrong, and whenever the listener
    hangs up. Keeps the listener connected from now on (PostgreSQL)."""
    with _lock:
        if callback not in _catalog_subscribers:
            _catalog_subscribers.append(callback)
    _listener.ensure_running()


def hearing_catalog() -> bool:
    """Whether catalog changes reach this process now (PostgreSQL, listener connected);
    starts the listener again if it hung up."""
    if _listener.connected.is_set():
        return True
    if _catalog_subscribers:
        _listener.ensure_running()
    return False


def stop_listening() -> None:
    """Hang up the listener's connection now (before a test database is dropped)."""
    _listener.stop()


def _interval(elapsed: float) -> float:
    if _listener.connected.is_set():
        return LISTENING_POLL
    for until, interval in POLL_SCHEDULE:
        if elapsed < until:
            return interval
    return POLL_SCHEDULE[-1][1]


def wait_for(key: str, read: Callable[[], T], done: Callable[[T], bool], timeout: float) -> T:
    """Call `read` until `done(value)` or `timeout` seconds pass; return the last value."""
    event = threading.Event()
    with _lock:
        _events.setdefault(key, set()).add(event)
    _listener.ensure_running()
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
