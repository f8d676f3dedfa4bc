"""Nothing of a private model shows to those who may not see it: not through counts,
facets, corrections of misspelled words, the prefix rule, error messages, or the URLs
of someone else's predictions and files.

Most tests here are differential: they record what a viewer gets, then add (or delete)
the private thing, and require the viewer's answers to be byte-identical."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from registry import files, services
from registry.inference import internal
from registry.models import MLModel, SearchTerm
from tests.factories import (
    CollectionFactory,
    PredictionFactory,
    UserFactory,
    VersionFactory,
    add_to_collection,
)

pytestmark = pytest.mark.django_db

Snapshot = Callable[[], list[Any]]


@pytest.fixture(autouse=True)
def _uncached(settings: Any) -> None:
    from django.core.cache import cache

    settings.SEARCH_FACETS_CACHE_SECONDS = 0
    cache.clear()


@pytest.fixture
def alice(db: Any) -> Any:
    return UserFactory(username="alice")


@pytest.fixture
def mallory_api(db: Any) -> APIClient:
    client = APIClient()
    token = services.token_create(user=UserFactory(username="mallory"))[1]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def public_catalog(alice: Any) -> MLModel:
    model = services.model_create(
        actor=alice,
        owner="alice",
        name="zorblaxian-greeter",
        description="Greets zorblaxians politely",
        tags=["greeting"],
    )
    VersionFactory(model=model)
    add_to_collection(CollectionFactory(slug="greeters", name="Greeters"), model)
    return model


def add_private_model(alice: Any, visibility: str = "private") -> MLModel:
    """A private model whose words, tag, hardware and collection are its own, or shared
    with (and so able to change the answers about) the public one."""
    model = services.model_create(
        actor=alice,
        owner="alice",
        name="zorblax",
        description="Xylophonic greeter of zorblaxians",
        tags=["greeting", "hush-hush"],
        hardware="gpu-h100",
        visibility=visibility,
    )
    VersionFactory(model=model)
    services.model_increment_run_count(model_id=model.pk)
    from registry.models import Collection

    add_to_collection(Collection.objects.get(slug="greeters"), model)
    return model


QUERIES = (
    "",
    "greets",
    "zorblax",  # a private model's name, and the prefix of a public word
    "zorblx",  # a misspelling of it
    "xylophonic",  # a word only the private model has
    "xylophnic",  # a misspelling of that
    "greeting",
    "alice/zorblax",
    "tag:hush-hush",
    "owner:alice",
)


def api_answers(client: APIClient) -> list[Any]:
    answers: list[Any] = []
    for query in QUERIES:
        answers.append(client.get("/v1/search", {"query": query}).content)
        found = client.generic("QUERY", "/v1/models", query, content_type="text/plain")
        answers.append(found.content)
    for path in ("/v1/models", "/v1/collections/greeters", "/v1/collections"):
        answers.append(client.get(path).content)
    return answers


def page_answers(client: Client) -> list[Any]:
    paths = ["/", "/alice", "/collections/greeters", "/models"]
    paths += [f"/search?q={q}" for q in QUERIES]
    paths += ["/search?tag=greeting", "/search?hardware=gpu-h100", "/search?owner=alice"]
    return [(path, _without_tokens(client.get(path).content)) for path in paths]


def _without_tokens(html: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", html)


def test_search_counts_facets_and_corrections_are_the_same_with_or_without_a_private_model(
    alice: Any, mallory_api: APIClient
) -> None:
    public_catalog(alice)
    anonymous = APIClient()
    browser = Client()
    browser.force_login(UserFactory(username="mallory2"))
    before = (
        api_answers(anonymous),
        api_answers(mallory_api),
        page_answers(Client()),
        page_answers(browser),
    )
    add_private_model(alice)
    after = (
        api_answers(anonymous),
        api_answers(mallory_api),
        page_answers(Client()),
        page_answers(browser),
    )
    for seen_before, seen_after in zip(before, after, strict=True):
        for one, other in zip(seen_before, seen_after, strict=True):
            assert one == other
    # and the owner does see it, so the comparison above could have failed
    owner = APIClient()
    owner.credentials(HTTP_AUTHORIZATION=f"Bearer {services.token_create(user=alice)[1]}")
    found = owner.get("/v1/search", {"query": "xylophonic"}).json()["models"]
    assert [hit["model"]["name"] for hit in found] == ["zorblax"]


def test_a_model_made_private_leaves_no_trace_in_the_search_answers_of_others(
    alice: Any, mallory_api: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    public_catalog(alice)
    before = api_answers(mallory_api)
    with django_capture_on_commit_callbacks(execute=True):  # the search task, inline
        model = add_private_model(alice, visibility="public")
    assert SearchTerm.objects.filter(term="xylophonic").exists()
    assert api_answers(mallory_api) != before  # public, it shows
    with django_capture_on_commit_callbacks(execute=True):
        services.model_update(actor=alice, model=model, visibility="private")
    assert not SearchTerm.objects.filter(term="xylophonic").exists()
    assert SearchTerm.objects.filter(term="greets").exists()
    assert api_answers(mallory_api) == before


def test_the_correction_vocabulary_holds_only_words_of_public_models(alice: Any) -> None:
    public_catalog(alice)
    private = add_private_model(alice)
    assert not SearchTerm.objects.filter(term="xylophonic").exists()
    assert SearchTerm.objects.filter(term="greets").exists()
    from io import StringIO

    from django.core.management import call_command

    call_command("reindex", stdout=StringIO())  # a rebuilt vocabulary too
    assert not SearchTerm.objects.filter(term="xylophonic").exists()
    services.model_update(actor=alice, model=private, visibility="public")
    assert SearchTerm.objects.filter(term="xylophonic").exists()


def test_the_facets_of_others_never_name_or_count_a_private_model(
    alice: Any, mallory_api: APIClient
) -> None:
    public_catalog(alice)
    add_private_model(alice)
    facets = mallory_api.get("/v1/search", {"query": ""}).json()["facets"]
    values = {facet: {v["value"]: v["count"] for v in found} for facet, found in facets.items()}
    assert values["owner"] == {"alice": 1}
    assert values["tag"] == {"greeting": 1}
    assert "gpu-h100" not in values["hardware"]
    assert values["collection"] == {"greeters": 1}
    assert values["input"] == {"text": 1, "number": 1}  # what the public model takes
    assert mallory_api.get("/v1/search", {"query": ""}).json()["total"] == 1


def test_owner_and_collection_pages_count_only_what_the_viewer_may_see(
    alice: Any, client: Client
) -> None:
    public_catalog(alice)
    add_private_model(alice)
    assert "1 model<" in client.get("/alice").content.decode()
    collection = APIClient().get("/v1/collections/greeters").json()
    assert [m["name"] for m in collection["models"]] == ["zorblaxian-greeter"]
    client.force_login(alice)
    assert "2 models<" in client.get("/alice").content.decode()


def identical_after(requests: Callable[[], list[Any]], remove: Callable[[], None]) -> None:
    """What `requests` answers now is byte for byte what it answers once the thing is
    gone: status, headers and body."""
    before = requests()
    remove()
    after = requests()
    assert before == after


def _whole(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k, v) for k, v in response.items() if k.lower() != "date")
    return response.status_code, headers, _without_tokens(response.content)


def test_a_private_model_is_byte_for_byte_a_missing_one_in_the_api_and_the_pages(
    alice: Any, mallory_api: APIClient
) -> None:
    private = add_private_model_alone(alice)
    version = private.latest_version_id
    assert version is not None
    paths = [
        "/v1/models/alice/zorblax",
        "/v1/models/alice/zorblax/readme",
        "/v1/models/alice/zorblax/versions",
        f"/v1/models/alice/zorblax/versions/{version}",
        "/v1/models/alice/zorblax/examples",
        "/v1/models/alice/zorblax/builds",
    ]
    pages = [
        "/alice/zorblax",
        "/alice/zorblax/examples",
        "/alice/zorblax/readme",
        "/alice/zorblax/api",
        "/alice/zorblax/versions",
        f"/alice/zorblax/versions/{version}",
        "/alice/zorblax/versions/new",
    ]
    browser = Client()
    browser.force_login(UserFactory(username="mallory2"))

    def answers() -> list[Any]:
        seen = [_whole(mallory_api.get(path)) for path in paths]
        seen += [_whole(APIClient().get(path)) for path in paths[:5]]
        seen.append(_whole(mallory_api.patch(paths[0], {"description": "x"}, format="json")))
        seen.append(_whole(mallory_api.delete(paths[3])))
        seen.append(
            _whole(
                mallory_api.post(
                    "/v1/models/alice/zorblax/predictions", {"input": {"text": "a"}}, format="json"
                )
            )
        )
        seen.append(
            _whole(
                mallory_api.post(
                    "/v1/predictions",
                    {"version": version, "input": {"text": "a"}},
                    format="json",
                )
            )
        )
        seen.append(
            _whole(
                mallory_api.post(
                    "/v1/models/alice/zorblax/versions",
                    {"cog_url": "http://cog:5000"},
                    format="json",
                )
            )
        )
        seen += [_whole(browser.get(page)) for page in pages]
        seen += [_whole(Client().get(page)) for page in pages[:6]]
        return seen

    assert answers()[0][0] == 404
    identical_after(answers, lambda: MLModel.objects.filter(pk=private.pk).delete())


def add_private_model_alone(alice: Any) -> MLModel:
    model = services.model_create(
        actor=alice, owner="alice", name="zorblax", readme="# Secret", visibility="private"
    )
    VersionFactory(model=model)
    model.refresh_from_db()
    return model


def test_someone_elses_prediction_is_byte_for_byte_a_missing_one(
    alice: Any, mallory_api: APIClient
) -> None:
    model = services.model_create(actor=alice, owner="alice", name="greeter")
    run = PredictionFactory(version=VersionFactory(model=model), created_by=alice)
    browser = Client()
    browser.force_login(UserFactory(username="mallory2"))

    def answers() -> list[Any]:
        return [
            _whole(mallory_api.get(f"/v1/predictions/{run.pk}")),
            _whole(mallory_api.post(f"/v1/predictions/{run.pk}/cancel")),
            _whole(APIClient().get(f"/v1/predictions/{run.pk}")),
            _whole(browser.get(f"/p/{run.pk}")),
            _whole(browser.get(f"/p/{run.pk}/status")),
            _whole(browser.post(f"/p/{run.pk}/cancel")),
            _whole(browser.post(f"/p/{run.pk}/share", {"shared": "true"})),
            _whole(browser.get(f"/alice/greeter?prediction={run.pk}")),
        ]

    assert answers()[0][0] == 404
    identical_after(answers, lambda: type(run).objects.filter(pk=run.pk).delete())


def test_someone_elses_file_is_byte_for_byte_a_missing_one_without_a_valid_signature(
    alice: Any, mallory_api: APIClient
) -> None:
    upload = SimpleUploadedFile("secret.txt", b"alice's bytes", "text/plain")
    file = files.file_create(owner=alice, upload=upload)
    browser = Client()
    browser.force_login(UserFactory(username="mallory2"))
    signed_long_ago = internal.file_signature("alice", file.pk, 1000)
    expired = f"/v1/files/{file.pk}/download?owner=alice&expiry=1000&signature={signed_long_ago}"
    forged = f"/v1/files/{file.pk}/download?owner=alice&expiry=9999999999&signature=forged"

    def answers() -> list[Any]:
        return [
            _whole(mallory_api.get(f"/v1/files/{file.pk}")),
            _whole(mallory_api.delete(f"/v1/files/{file.pk}")),
            _whole(browser.get(f"/v1/files/{file.pk}/download")),
            _whole(Client().get(f"/v1/files/{file.pk}/download")),
            _whole(Client().get(forged)),
            _whole(Client().get(expired)),
        ]

    seen = answers()
    assert all(status == 404 for status, _, _ in seen[2:])
    assert b"alice's bytes" not in b"".join(body for _, _, body in seen)
    identical_after(answers, lambda: type(file).objects.filter(pk=file.pk).delete())


def test_a_prediction_input_naming_someone_elses_file_is_refused_like_a_missing_one(
    alice: Any, mallory_api: APIClient
) -> None:
    upload = SimpleUploadedFile("secret.txt", b"alice's bytes", "text/plain")
    file = files.file_create(owner=alice, upload=upload)
    model = services.model_create(actor=alice, owner="alice", name="greeter")
    VersionFactory(model=model)

    def answers() -> list[Any]:
        text = f"http://testserver/v1/files/{file.pk}"
        run = {"input": {"text": text}}
        return [
            _whole(mallory_api.post("/v1/models/alice/greeter/predictions", run, format="json"))
        ]

    status, _, body = answers()[0]
    assert status == 422 and b"input.text" in body
    identical_after(answers, lambda: type(file).objects.filter(pk=file.pk).delete())


def test_healthz_counts_no_private_model_for_others_but_staff_see_the_counts(
    alice: Any, admin_client: Client
) -> None:
    public_catalog(alice)

    def checks(client: Client) -> dict[str, Any]:
        report = client.get("/healthz").json()["checks"]
        return {
            name: {k: v for k, v in part.items() if k != "latency_ms"}
            for name, part in report.items()
        }

    anonymous = Client()
    browser = Client()
    browser.force_login(UserFactory(username="mallory2"))
    before = (checks(anonymous), checks(browser))
    documents = checks(admin_client)["search"]["documents"]
    add_private_model(alice)
    assert (checks(anonymous), checks(browser)) == before
    assert checks(admin_client)["search"]["documents"] == documents + 1
