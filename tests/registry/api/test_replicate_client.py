"""The unmodified `replicate` 1.0.7 client (the PyPI package) against a live Vitrine."""

from __future__ import annotations

from typing import Any

import pytest
import replicate
from replicate.exceptions import ReplicateError

from registry import services
from tests.factories import (
    CollectionFactory,
    ModelFactory,
    PredictionFactory,
    UserFactory,
    VersionFactory,
    add_to_collection,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_client_gets_a_model_with_its_latest_version(replicate_client: Any, user: Any) -> None:
    version = VersionFactory(model=ModelFactory(owner=user.owner, name="hello", description="Hi"))
    model = replicate_client.models.get("alice/hello")
    assert (model.owner, model.name, model.description) == ("alice", "hello", "Hi")
    assert model.visibility == "public"
    assert model.run_count == 0
    assert model.latest_version.id == version.id
    assert model.latest_version.cog_version == "0.23.1"
    assert model.latest_version.openapi_schema["components"]["schemas"]["Output"] == {
        "title": "Output",
        "type": "string",
    }
    same = replicate_client.models.get("alice", "hello")
    assert same.url == model.url and model.url.endswith("/alice/hello")


def test_the_client_lists_models_following_next_pages(replicate_client: Any) -> None:
    created = {ModelFactory().name for _ in range(60)}
    seen = []
    for page in replicate.paginate(replicate_client.models.list):
        seen.extend(m.name for m in page)
    assert len(seen) == 60 and set(seen) == created


def test_the_client_creates_a_model(replicate_client: Any) -> None:
    model = replicate_client.models.create(
        owner="alice",
        name="fresh",
        visibility="private",
        hardware="cpu",
        description="Made by the client",
        github_url="https://github.com/alice/fresh",
    )
    assert (model.owner, model.name, model.visibility) == ("alice", "fresh", "private")
    assert model.latest_version is None and model.default_example is None
    assert replicate_client.models.get("alice/fresh").github_url == "https://github.com/alice/fresh"


def test_the_client_reports_unknown_hardware_as_a_422(replicate_client: Any) -> None:
    with pytest.raises(ReplicateError) as error:
        replicate_client.models.create(
            owner="alice", name="x", visibility="public", hardware="gpu-quantum"
        )
    assert error.value.status == 422
    assert "hardware" in error.value.detail


def test_the_client_lists_gets_and_deletes_versions(replicate_client: Any, user: Any) -> None:
    model = ModelFactory(owner=user.owner, name="hello")
    old, new = VersionFactory(model=model), VersionFactory(model=model)
    versions = replicate_client.models.get("alice/hello").versions
    assert [v.id for v in versions.list()] == [new.id, old.id]
    fetched = versions.get(old.id)
    assert fetched.id == old.id
    assert fetched.openapi_schema["components"]["schemas"]["Input"]["properties"]["text"]
    assert versions.delete(new.id) is True
    assert replicate_client.models.get("alice/hello").latest_version.id == old.id


def test_the_client_reads_collections(replicate_client: Any) -> None:
    collection = CollectionFactory(slug="text-tools", name="Text tools", description="Words")
    add_to_collection(collection, ModelFactory(name="a"), ModelFactory(name="b"))
    listed = list(replicate_client.collections.list())
    assert [(c.slug, c.name, c.description) for c in listed] == [
        ("text-tools", "Text tools", "Words")
    ]
    detail = replicate_client.collections.get("text-tools")
    assert [m.name for m in detail.models] == ["a", "b"]


def test_the_client_lists_hardware(replicate_client: Any) -> None:
    hardware = replicate_client.hardware.list()
    assert hardware[0].sku == "cpu" and hardware[0].name == "CPU"


def test_the_client_reads_the_current_account_and_webhook_secret(
    replicate_client: Any, user: Any
) -> None:
    account = replicate_client.accounts.current()
    assert (account.type, account.username, account.name) == ("user", "alice", "alice")
    secret = replicate_client.webhooks.default.secret()
    assert secret.key == user.owner.webhook_secret and secret.key.startswith("whsec_")


def test_the_client_sees_a_default_example(replicate_client: Any, user: Any) -> None:
    prediction = PredictionFactory(version=VersionFactory(model=ModelFactory(owner=user.owner)))
    services.example_add(actor=user, model=prediction.model, prediction=prediction)
    model = replicate_client.models.get(prediction.model.full_name)
    assert model.default_example.id == prediction.id
    assert model.default_example.output == "hello Alice"
    assert model.default_example.status == "succeeded"


def test_a_bad_token_raises_a_401_problem(live_server: Any) -> None:
    ModelFactory(name="public-one")
    client = replicate.Client(api_token="vt_wrong", base_url=live_server.url)
    with pytest.raises(ReplicateError) as error:
        client.models.get(f"{ModelFactory().owner.username}/public-one")
    assert error.value.status == 401
    assert error.value.title == "Unauthenticated"
    assert error.value.detail == "You did not pass a valid authentication token"


def test_someone_elses_private_model_is_a_404(replicate_client: Any) -> None:
    stranger = UserFactory(username="bob")
    ModelFactory(owner=stranger.owner, name="secret", visibility="private")
    with pytest.raises(ReplicateError) as error:
        replicate_client.models.get("bob/secret")
    assert error.value.status == 404
    assert "bob/secret" in error.value.detail
