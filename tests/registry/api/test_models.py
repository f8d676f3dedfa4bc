from __future__ import annotations

import base64
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import MLModel, Tag
from tests.factories import (
    MembershipFactory,
    ModelFactory,
    OrganizationFactory,
    PredictionFactory,
    VersionFactory,
)

pytestmark = pytest.mark.django_db


def test_it_lists_public_models_in_cursor_pages_with_absolute_next_links(api: Any) -> None:
    for _ in range(30):
        VersionFactory()
    first = api.get("/v1/models")
    assert first.status_code == 200
    assert len(first.json()["results"]) == 25
    assert first.json()["next"].startswith("http://testserver/v1/models?cursor=")
    assert first.json()["previous"] is None
    second = api.get(first.json()["next"])
    assert len(second.json()["results"]) == 5
    assert second.json()["next"] is None
    names = [m["name"] for m in first.json()["results"] + second.json()["results"]]
    assert len(set(names)) == 30


def test_it_sorts_models_by_creation_time_in_both_directions(api: Any) -> None:
    older, newer = ModelFactory(name="older"), ModelFactory(name="newer")
    asc = api.get("/v1/models", {"sort_by": "model_created_at", "sort_direction": "asc"}).json()
    desc = api.get("/v1/models", {"sort_by": "model_created_at", "sort_direction": "desc"}).json()
    assert [m["name"] for m in asc["results"]] == [older.name, newer.name]
    assert [m["name"] for m in desc["results"]] == [newer.name, older.name]


def test_it_rejects_an_unknown_sort_field_naming_it(api: Any) -> None:
    response = api.get("/v1/models", {"sort_by": "stars"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["invalid_fields"][0]["field"] == "sort_by"


def test_the_model_list_takes_the_same_number_of_queries_for_3_and_30_models(
    api: Any, user: Any, token: str
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/v1/models", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
        return len(ctx.captured_queries)

    for _ in range(3):
        model = PredictionFactory().model
        model.default_example = model.predictions.first()
        model.save()
        model.tags.add(Tag.objects.get_or_create(name="vision")[0])
    count()  # the first call also records the token's use
    few = count()
    for _ in range(27):
        VersionFactory().model.tags.add(Tag.objects.get_or_create(name="text")[0])
    assert count() == few
    assert few <= 3  # token, models page, tags


def test_it_hides_private_models_from_lists_for_other_people(
    api: Any, user: Any, token: str
) -> None:
    ModelFactory(owner=user.owner, name="secret", visibility="private")
    ModelFactory(name="open")
    anonymous = [m["name"] for m in api.get("/v1/models").json()["results"]]
    mine = [
        m["name"]
        for m in api.get("/v1/models", HTTP_AUTHORIZATION=f"Bearer {token}").json()["results"]
    ]
    assert anonymous == ["open"]
    assert sorted(mine) == ["open", "secret"]


def test_it_shows_a_private_model_to_organization_members_only(api: Any, make_token: Any) -> None:
    membership = MembershipFactory()
    ModelFactory(owner=membership.organization, name="internal", visibility="private")
    path = f"/v1/models/{membership.organization.username}/internal"
    member = api.get(path, HTTP_AUTHORIZATION=f"Bearer {make_token(membership.user)}")
    assert member.status_code == 200
    assert api.get(path).status_code == 404


def test_a_private_model_is_a_404_never_a_403(api: Any, other_user: Any, make_token: Any) -> None:
    model = ModelFactory(visibility="private")
    response = api.get(
        f"/v1/models/{model.owner.username}/{model.name}",
        HTTP_AUTHORIZATION=f"Bearer {make_token(other_user)}",
    )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    missing = api.get(f"/v1/models/{model.owner.username}/does-not-exist")
    assert response.json()["title"] == missing.json()["title"] == "Not found"


def test_it_gets_a_model_with_its_latest_version_and_default_example(api: Any) -> None:
    prediction = PredictionFactory(output="hello Alice")
    model = prediction.model
    model.default_example = prediction
    model.github_url = "https://github.com/acme/hello"
    model.save()
    body = api.get(f"/v1/models/{model.owner.username}/{model.name}").json()
    assert body["url"] == f"http://testserver/{model.owner.username}/{model.name}"
    assert body["owner"] == model.owner.username
    assert body["visibility"] == "public"
    assert body["run_count"] == 0
    assert body["github_url"] == "https://github.com/acme/hello"
    assert body["paper_url"] is None
    assert body["latest_version"]["id"] == prediction.version.id
    assert body["latest_version"]["cog_version"] == "0.23.1"
    assert body["default_example"]["output"] == "hello Alice"
    assert body["default_example"]["model"] == model.full_name
    assert body["default_example"]["urls"]["get"].endswith(f"/v1/predictions/{prediction.id}")


def test_it_creates_a_model_for_the_token_owner(auth_api: Any, user: Any) -> None:
    response = auth_api.post(
        "/v1/models",
        {
            "owner": "alice",
            "name": "hello-world",
            "visibility": "private",
            "hardware": "cpu",
            "description": "Says hello",
            "tags": ["Text", "demo"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["owner"], body["name"], body["visibility"]) == ("alice", "hello-world", "private")
    assert body["latest_version"] is None and body["default_example"] is None
    assert body["tags"] == ["demo", "text"]
    assert MLModel.objects.get(name="hello-world").owner == user.owner


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Hello World"}, "name"),
        ({"name": "-dash-first"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"hardware": "gpu-quantum"}, "hardware"),
        ({"visibility": "secret"}, "visibility"),
        ({"github_url": "not a url"}, "github_url"),
        ({"owner": None}, "owner"),
    ],
)
def test_it_rejects_bad_model_fields_naming_the_field(
    auth_api: Any, payload: dict[str, Any], field: str
) -> None:
    body = {"owner": "alice", "name": "ok", "visibility": "public", "hardware": "cpu", **payload}
    response = auth_api.post("/v1/models", body, format="json")
    assert response.status_code == 422, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert field in [f["field"] for f in response.json()["invalid_fields"]]
    assert field in response.json()["detail"]
    assert not MLModel.objects.exists()


def test_it_refuses_a_duplicate_model_with_409(auth_api: Any, user: Any) -> None:
    ModelFactory(owner=user.owner, name="taken")
    response = auth_api.post(
        "/v1/models",
        {"owner": "alice", "name": "taken", "visibility": "public", "hardware": "cpu"},
        format="json",
    )
    assert response.status_code == 409
    assert "alice/taken" in response.json()["detail"]


def test_it_refuses_to_create_models_in_someone_elses_namespace(
    auth_api: Any, other_user: Any
) -> None:
    response = auth_api.post(
        "/v1/models",
        {"owner": "mallory", "name": "x", "visibility": "public", "hardware": "cpu"},
        format="json",
    )
    assert response.status_code == 403
    assert not MLModel.objects.exists()


def test_it_lets_organization_members_create_models_for_the_organization(
    api: Any, make_token: Any
) -> None:
    membership = MembershipFactory(organization=OrganizationFactory(username="acme-labs"))
    response = api.post(
        "/v1/models",
        {"owner": "acme-labs", "name": "x", "visibility": "public", "hardware": "cpu"},
        format="json",
        HTTP_AUTHORIZATION=f"Token {make_token(membership.user)}",
    )
    assert response.status_code == 201


def test_writes_need_a_token(api: Any) -> None:
    response = api.post("/v1/models", {"owner": "a", "name": "b"}, format="json")
    assert response.status_code == 401
    assert response.json()["title"] == "Unauthenticated"


def test_a_bad_token_is_401_even_where_anonymous_reads_are_allowed(api: Any) -> None:
    response = api.get("/v1/models", HTTP_AUTHORIZATION="Bearer vt_not-a-real-token")
    assert response.status_code == 401
    assert response.json() == {
        "title": "Unauthenticated",
        "detail": "You did not pass a valid authentication token",
        "status": 401,
    }


def test_a_revoked_token_no_longer_works(api: Any, user: Any, token: str) -> None:
    from registry import services

    services.token_revoke(user=user, token_id=user.api_tokens.get().pk)
    assert api.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_it_updates_model_fields_with_patch(auth_api: Any, user: Any) -> None:
    model = ModelFactory(owner=user.owner, name="m")
    response = auth_api.patch(
        "/v1/models/alice/m",
        {"description": "New words", "readme": "# Hi", "paper_url": "https://arxiv.org/abs/1"},
        format="json",
    )
    assert response.status_code == 200
    model.refresh_from_db()
    assert (model.description, model.readme, model.paper_url) == (
        "New words",
        "# Hi",
        "https://arxiv.org/abs/1",
    )


def test_patch_by_someone_who_may_see_but_not_change_is_403(
    api: Any, other_user: Any, make_token: Any
) -> None:
    model = ModelFactory(name="m")
    response = api.patch(
        f"/v1/models/{model.owner.username}/m",
        {"description": "defaced"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {make_token(other_user)}",
    )
    assert response.status_code == 403
    model.refresh_from_db()
    assert model.description != "defaced"


def test_deleting_a_model_with_versions_is_refused_and_without_is_204(
    auth_api: Any, user: Any
) -> None:
    version = VersionFactory(model=ModelFactory(owner=user.owner, name="m"))
    assert auth_api.delete("/v1/models/alice/m").status_code == 409
    assert auth_api.delete(f"/v1/models/alice/m/versions/{version.id}").status_code == 204
    assert auth_api.delete("/v1/models/alice/m").status_code == 204
    assert not MLModel.objects.filter(name="m").exists()


def test_the_readme_is_markdown_text_or_404(api: Any) -> None:
    model = ModelFactory(readme="# Hello\n\nSays hello.")
    response = api.get(f"/v1/models/{model.owner.username}/{model.name}/readme")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "# Hello\n\nSays hello."
    empty = ModelFactory(readme="")
    assert api.get(f"/v1/models/{empty.owner.username}/{empty.name}/readme").status_code == 404


def test_examples_are_a_page_of_predictions(api: Any, user: Any) -> None:
    from registry import services

    model = ModelFactory(owner=user.owner)
    version = VersionFactory(model=model)
    first = PredictionFactory(version=version, output="one")
    second = PredictionFactory(version=version, output="two")
    services.example_add(actor=user, model=model, prediction=first)
    services.example_add(actor=user, model=model, prediction=second, make_default=True)
    body = api.get(f"/v1/models/alice/{model.name}/examples").json()
    assert sorted(p["output"] for p in body["results"]) == ["one", "two"]
    model.refresh_from_db()
    assert model.default_example_id == second.id


def test_unknown_api_paths_answer_problem_json(api: Any) -> None:
    response = api.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("url", "position"),
    [
        ("/v1/models", "not-a-date"),
        ("/v1/models", "9" * 40),
        ("/v1/models", "p\x00"),
        ("/v1/collections", "not-a-number"),
    ],
)
def test_a_hand_made_cursor_is_a_422_naming_the_cursor(api: Any, url: str, position: str) -> None:
    # Found by schemathesis: the cursor decoded, but its position broke the query (500).
    VersionFactory()
    cursor = base64.b64encode(f"p={position}".encode()).decode()
    response = api.get(url, {"cursor": cursor})
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["invalid_fields"][0]["field"] == "cursor"


def test_a_cursor_that_does_not_decode_is_a_422_naming_the_cursor(api: Any) -> None:
    response = api.get("/v1/models", {"cursor": "abc"})  # not base64
    assert response.status_code == 422
    assert response.json()["invalid_fields"][0]["field"] == "cursor"


def test_a_body_over_the_upload_limit_is_a_413_problem(auth_api: Any, settings: Any) -> None:
    # Django refuses it before the view runs; that was an HTML page, not problem+json.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"owner": "alice", "name": "big", "description": "x" * 2000}
    response = auth_api.post("/v1/models", body, format="multipart")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert not MLModel.objects.filter(name="big").exists()


def test_too_many_form_fields_is_a_400_problem(auth_api: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    body = {f"field{n}": "x" for n in range(10)}
    response = auth_api.post("/v1/models", body, format="multipart")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
