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
