from __future__ import annotations

import json
from typing import Any

import pytest

from registry.api.serializers import VersionSerializer
from registry.models import Prediction
from tests.factories import ModelFactory, PredictionFactory, VersionFactory

pytestmark = pytest.mark.django_db


def _path(version: Any) -> str:
    model = version.model
    return f"/v1/models/{model.owner.username}/{model.name}/versions/{version.id}"


def test_it_returns_the_cog_schema_of_a_version(api: Any) -> None:
    version = VersionFactory()
    body = api.get(_path(version)).json()
    assert set(body) == {"id", "created_at", "cog_version", "openapi_schema"}
    assert body["id"] == version.id and len(body["id"]) == 64
    assert body["cog_version"] == "0.23.1"
    assert body["created_at"].endswith("Z")
    assert body["openapi_schema"]["components"]["schemas"]["Input"]["required"] == ["text"]


def test_the_schema_lookup_answers_what_the_version_serializer_would(api: Any) -> None:
    # The lookup splices the stored schema text into its answer rather than serializing
    # the version: the two must never drift apart.
    version = VersionFactory()
    version.refresh_from_db()
    response = api.get(_path(version))
    assert response["Content-Type"] == "application/json"
    assert response.json() == json.loads(json.dumps(VersionSerializer(version).data))


def test_a_missing_version_of_a_public_model_is_404(api: Any) -> None:
    version = VersionFactory()
    path = _path(version).replace(version.id, "0" * 64)
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


def test_the_schema_lookup_of_a_public_version_is_one_query(
    api: Any, django_assert_num_queries: Any
) -> None:
    version = VersionFactory()
    with django_assert_num_queries(1):
        assert api.get(_path(version)).status_code == 200


def test_the_schema_lookup_answers_304_to_a_matching_etag(
    api: Any, django_assert_num_queries: Any
) -> None:
    version = VersionFactory()
    first = api.get(_path(version))
    etag = first["ETag"]
    assert etag.startswith('"') and version.id in etag
    with django_assert_num_queries(1):
        again = api.get(_path(version), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    other = api.get(_path(version), HTTP_IF_NONE_MATCH='"something-else"')
    assert other.status_code == 200


def test_a_private_version_is_404_for_others_and_visible_to_its_owner(
    api: Any, user: Any, token: str, other_user: Any, make_token: Any
) -> None:
    version = VersionFactory(model=ModelFactory(owner=user.owner, visibility="private"))
    assert api.get(_path(version), HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    stranger = api.get(_path(version), HTTP_AUTHORIZATION=f"Bearer {make_token(other_user)}")
    assert stranger.status_code == 404
    # The 304 shortcut must not leak existence either.
    etag = api.get(_path(version), HTTP_AUTHORIZATION=f"Bearer {token}")["ETag"]
    assert api.get(_path(version), HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_versions_are_listed_newest_first(api: Any) -> None:
    model = ModelFactory()
    old = VersionFactory(model=model)
    new = VersionFactory(model=model)
    body = api.get(f"/v1/models/{model.owner.username}/{model.name}/versions").json()
    assert [v["id"] for v in body["results"]] == [new.id, old.id]


def test_the_version_list_takes_a_fixed_number_of_queries(
    api: Any, django_assert_max_num_queries: Any
) -> None:
    model = ModelFactory()
    for _ in range(20):
        VersionFactory(model=model)
    with django_assert_max_num_queries(2):
        api.get(f"/v1/models/{model.owner.username}/{model.name}/versions")


def test_deleting_a_version_keeps_its_predictions_and_moves_latest_version(
    auth_api: Any, user: Any
) -> None:
    model = ModelFactory(owner=user.owner)
    older = VersionFactory(model=model)
    newer = VersionFactory(model=model)
    prediction = PredictionFactory(version=newer)
    assert auth_api.delete(_path(newer)).status_code == 204
    model.refresh_from_db()
    assert model.latest_version_id == older.id
    prediction = Prediction.objects.get(pk=prediction.pk)
    assert prediction.version is None and prediction.version_ref == newer.id
    body = auth_api.get(f"/v1/models/alice/{model.name}").json()
    assert body["latest_version"]["id"] == older.id


def test_only_the_owner_may_delete_a_version(api: Any, other_user: Any, make_token: Any) -> None:
    version = VersionFactory()
    response = api.delete(_path(version), HTTP_AUTHORIZATION=f"Bearer {make_token(other_user)}")
    assert response.status_code == 403
    assert api.get(_path(version)).status_code == 200


def test_the_api_has_no_way_to_edit_a_version(auth_api: Any, user: Any) -> None:
    version = VersionFactory(model=ModelFactory(owner=user.owner))
    response = auth_api.patch(_path(version), {"openapi_schema": {}}, format="json")
    assert response.status_code == 405
    version.refresh_from_db()
    assert version.openapi_schema["components"]
