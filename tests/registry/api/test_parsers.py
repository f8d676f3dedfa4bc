"""JSON bodies: bounded in depth, free of NUL characters (on every database), and any
JSON value (a bare number, string, null) is a 4xx from the view rather than a crash in
the parser."""

from __future__ import annotations

import json
from typing import Any

import pytest

from registry.api.parsers import MAX_JSON_DEPTH, holds_nul, too_deep
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


@pytest.mark.parametrize(
    "body", ['{"name": "a\\u0000b"}', '{"name": "ab", "x\\u0000": 1}', '{"t": [["\\u0000"]]}']
)
def test_a_nul_anywhere_in_a_json_body_is_a_400_on_every_database_and_creates_nothing(
    auth_api: Any, body: str
) -> None:
    response = auth_api.post("/v1/models", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "cannot be stored" in response.json()["detail"]
    assert not MLModel.objects.exists()


def test_an_escaped_backslash_before_u0000_is_not_a_nul() -> None:
    assert not holds_nul(json.loads('{"path": "C:\\\\u0000"}'))
    assert holds_nul(json.loads('{"k": ["x", {"y\\u0000": 1}]}'))
