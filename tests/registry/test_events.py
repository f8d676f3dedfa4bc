"""Change notifications: a waiter wakes when another process (here: another database
connection, as a web or task worker would use) reports a change."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import connection

from registry import events

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def no_rereads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-read so rarely that only a notification can end a wait within the test."""
    monkeypatch.setattr(events, "POLL_SCHEDULE", ((float("inf"), 30.0),))
    monkeypatch.setattr(events, "LISTENING_POLL", 30.0)


def test_a_waiter_wakes_when_another_connection_notifies(no_rereads: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL; on SQLite waiters re-read instead")
    reads: list[float] = []
    finished: list[float] = []

    def read() -> int:
        reads.append(time.monotonic())
        return len(reads)

    def waiter() -> None:
        events.wait_for("prediction:p1", read=read, done=lambda n: n >= 2, timeout=20)
        finished.append(time.monotonic())

    thread = threading.Thread(target=waiter)
    thread.start()
    assert events._listener.connected.wait(5)
    time.sleep(0.2)
    assert len(reads) == 1  # waiting, not re-reading
    sent = time.monotonic()
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_notify(%s, %s)", [events.CHANNEL, "prediction:p1"])
    thread.join(timeout=10)
    assert finished and finished[0] - sent < 1.0


def test_notify_reaches_waiters_of_that_key_only(no_rereads: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL; on SQLite waiters re-read instead")
    waited: dict[str, float] = {}

    def wait(key: str) -> None:
        reads = iter(range(100))
        started = time.monotonic()
        events.wait_for(f"build:{key}", read=lambda: next(reads), done=lambda n: n >= 1, timeout=3)
        waited[key] = time.monotonic() - started

    threads = [threading.Thread(target=wait, args=(key,)) for key in ("a", "b")]
    for thread in threads:
        thread.start()
    assert events._listener.connected.wait(5)
    time.sleep(0.2)
    events.notify("build:a")
    for thread in threads:
        thread.join(timeout=10)
    assert waited["a"] < 1.5
    assert waited["b"] >= 3  # nothing woke it: it waited out its timeout
