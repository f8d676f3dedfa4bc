from __future__ import annotations

from typing import Any

import pytest

from registry import health
from registry.backends import Health

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_part_and_answers_200_when_all_are_up(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "storage", "search", "inference"}
    assert body["checks"]["database"]["vendor"] in {"postgresql", "sqlite"}
    assert body["checks"]["search"]["backend"] == "database"


def test_healthz_answers_503_when_a_required_part_is_down(client: Any, monkeypatch: Any) -> None:
    def broken() -> Health:
        raise ConnectionError("bucket unreachable")

    monkeypatch.setitem(health.CHECKS, "storage", (broken, True))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert "bucket unreachable" in response.json()["checks"]["storage"]["detail"]


def test_a_down_search_backend_degrades_but_does_not_fail_health(
    client: Any, monkeypatch: Any
) -> None:
    monkeypatch.setitem(health.CHECKS, "search", (lambda: Health("down", "no meili"), False))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
