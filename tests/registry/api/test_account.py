from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.factories import CollectionFactory, ModelFactory, add_to_collection

pytestmark = pytest.mark.django_db


def test_hardware_is_a_bare_array_of_skus(api: Any) -> None:
    body = api.get("/v1/hardware").json()
    assert isinstance(body, list)
    assert body[0] == {"sku": "cpu", "name": "CPU"}
    assert {"sku": "gpu-t4", "name": "Nvidia T4 GPU"} in body


def test_collections_list_and_detail_show_only_visible_models(api: Any, user: Any) -> None:
    collection = CollectionFactory(slug="vision", name="Vision", description="See things")
    public, private = ModelFactory(name="eye"), ModelFactory(name="hidden", visibility="private")
    add_to_collection(collection, public, private)
    listing = api.get("/v1/collections").json()
    assert listing["results"] == [{"name": "Vision", "slug": "vision", "description": "See things"}]
    detail = api.get("/v1/collections/vision").json()
    assert [m["name"] for m in detail["models"]] == ["eye"]
    assert api.get("/v1/collections/nope").status_code == 404


def test_the_account_is_the_token_owner(auth_api: Any, api: Any) -> None:
    assert auth_api.get("/v1/account").json() == {
        "type": "user",
        "username": "alice",
        "name": "alice",
        "github_url": None,
        "avatar_url": None,
    }
    assert api.get("/v1/account").status_code == 401


def test_the_default_webhook_secret_is_a_stable_whsec_key(auth_api: Any) -> None:
    first = auth_api.get("/v1/webhooks/default/secret").json()["key"]
    assert first == auth_api.get("/v1/webhooks/default/secret").json()["key"]
    prefix, _, encoded = first.partition("_")
    assert prefix == "whsec"
    assert len(base64.b64decode(encoded)) == 24


def test_the_openapi_document_describes_the_api(api: Any) -> None:
    response = api.get("/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/v1/models/{owner}/{name}/versions/{version_id}" in paths
    assert "/v1/hardware" in paths
    docs = api.get("/v1/docs")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_the_openapi_document_lists_each_operations_problem_answers(api: Any) -> None:
    # Schemathesis found answers the document did not list (401, 404, 422).
    document = api.get("/v1/openapi.json").json()
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        assert {"400", "401", "429", "503"} <= set(responses), (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if any(p["in"] == "query" for p in operation.get("parameters", [])):
            assert "422" in responses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= set(responses), (method, path)
        problem = responses["401"]["content"]["application/problem+json"]["schema"]
        assert problem == {"$ref": "#/components/schemas/Problem"}
    creating = document["paths"]["/v1/models"]["post"]["responses"]
    assert {"403", "409"} <= set(creating)
    assert "404" in document["paths"]["/v1/predictions"]["post"]["responses"]


def test_the_openapi_document_describes_pages_nulls_and_streams_as_sent(api: Any) -> None:
    # Each of these was an answer that did not match the document.
    document = api.get("/v1/openapi.json").json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    listing = paths["/v1/models"]["get"]
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/PaginatedModelList"}
    assert {"cursor", "page_size"} <= {p["name"] for p in listing["parameters"]}
    assert "results" in schemas["PaginatedModelList"]["properties"]
    for component, field in [
        ("Prediction", "started_at"),
        ("Prediction", "completed_at"),
        ("Build", "completed_at"),
        ("File", "expires_at"),
    ]:
        assert schemas[component]["properties"][field]["nullable"] is True, (component, field)
    version = paths["/v1/models/{owner}/{name}/versions/{version_id}"]["get"]
    assert "304" in version["responses"]
    assert "If-None-Match" in {p["name"] for p in version["parameters"]}
    stream = paths["/v1/builds/{build_id}/stream"]["get"]["responses"]["200"]["content"]
    event = stream["text/event-stream"]["schema"]
    assert set(event["properties"]) == {"event", "id", "data"}
