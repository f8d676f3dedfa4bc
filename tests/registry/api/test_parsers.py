"""JSON bodies: bounded in depth, and any JSON value (a bare number, string, null) is a
4xx from the view rather than a crash in the parser."""

from __future__ import annotations

from typing import Any

import pytest

from registry.api.parsers import MAX_JSON_DEPTH, too_deep
from registry.models import MLModel

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("body", ["1", '"text"', "null", "true", "[]", "[1, [2]]"])
def test_a_json_body_that_is_not_an_object_is_a_422_naming_the_body_and_creates_nothing(
    auth_api: Any, body: str
) -> None:
    response = auth_api.post("/v1/models", body, content_type="application/json")
    assert response.status_code == 422, response.content
    assert response.json()["invalid_fields"][0]["field"] == "body"
    assert response["Content-Type"].startswith("application/problem+json")
    assert not MLModel.objects.exists()


def test_depth_counts_containers_only() -> None:
    nested: Any = "leaf"
    for _ in range(MAX_JSON_DEPTH):
        nested = [nested]
    assert not too_deep(nested)
    assert too_deep([nested])
    assert not too_deep(7) and not too_deep("x" * 10_000) and not too_deep(None)
