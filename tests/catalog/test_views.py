"""The pages: what they show, who may see them, what forms do, and how many queries."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from registry.models import ApiToken, MLModel
from tests.factories import (
    CollectionFactory,
    MembershipFactory,
    ModelFactory,
    OrganizationFactory,
    PredictionFactory,
    VersionFactory,
    add_to_collection,
    cog_schema,
)

pytestmark = pytest.mark.django_db


def without_csrf(html: bytes) -> bytes:
    """The page without its CSRF token, which differs on every response."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", html)


@pytest.fixture
def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def hello_model(**kwargs: Any) -> MLModel:
    model = ModelFactory(name="hello", **kwargs)
    VersionFactory(model=model, openapi_schema=cog_schema("hello"))
    model.refresh_from_db()
    return model


# Explore and search ---------------------------------------------------------------------


def test_the_explore_page_shows_cards_with_runs_modality_and_freshness(client: Client) -> None:
    model = hello_model(run_count=1234, featured=True, description="Greets people")
    add_to_collection(CollectionFactory(name="Greeters"), model)
    html = client.get("/").content.decode()
    assert "Featured" in html and "Greeters" in html and "Trending" in html
    assert f"/{model.owner.username}/hello" in html
    assert "1.2K runs" in html
    assert "text → text" in html
    assert "updated just now" in html
    assert "Greets people" in html


def test_the_explore_page_is_cached_for_anonymous_visitors_until_the_catalog_changes(
    client: Client, django_assert_num_queries: Callable[..., Any]
) -> None:
    hello_model()
    client.get("/")
    with django_assert_num_queries(0):
        assert "hello" in client.get("/").content.decode()
    ModelFactory(name="newcomer")
    assert "newcomer" in client.get("/").content.decode()


def test_signed_in_visitors_get_their_own_explore_page(
    client: Client, user: Any, other_user: Any
) -> None:
    ModelFactory(name="secret", owner=user.owner, visibility="private")
    client.get("/")  # fills the anonymous cache
    client.force_login(user)
    assert "secret" in client.get("/").content.decode()
    client.force_login(other_user)
    assert "secret" not in client.get("/").content.decode()
    client.logout()
    assert "secret" not in client.get("/").content.decode()


def test_search_filters_are_a_shareable_get_url(client: Client) -> None:
    hello_model()
    ModelFactory(name="other")
    response = client.get("/search", {"q": "hello", "input": "text", "sort": "runs"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Results for “hello”" in html and "1 model" in html
    assert 'value="text" selected' in html and 'value="runs" selected' in html
    assert "Remove filter Input: text" in html


def test_htmx_search_requests_get_only_the_results(client: Client) -> None:
    hello_model()
    response = client.get("/search", {"q": "hel"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="results"')
    assert "<html" not in html


def test_the_models_page_paginates(client: Client) -> None:
    for i in range(30):
        ModelFactory(name=f"m{i:02}")
    first = client.get("/models").content.decode()
    assert "Page 1 of 2" in first and "page=2" in first
    second = client.get("/models", {"page": 2}).content.decode()
    assert second.count('class="card"') == 6
    assert client.get("/models", {"page": 99}).status_code == 200  # clamps to the last page


def test_a_collection_page_lists_its_models(client: Client) -> None:
    collection = CollectionFactory(slug="picks", name="Our picks")
    add_to_collection(collection, hello_model())
    html = client.get("/collections/picks").content.decode()
    assert "Our picks" in html and "hello" in html
    assert client.get("/collections/none").status_code == 404


# Owner and model pages ------------------------------------------------------------------


def test_the_owner_page_lists_models_the_viewer_may_see(
    client: Client, user: Any, other_user: Any
) -> None:
    ModelFactory(owner=user.owner, name="open")
    ModelFactory(owner=user.owner, name="concealed", visibility="private")
    CollectionFactory(owner=user.owner, name="Alice's picks")
    html = client.get("/alice").content.decode()
    assert "open" in html and "concealed" not in html and "Alice&#x27;s picks" in html
    client.force_login(user)
    assert "concealed" in client.get("/alice").content.decode()
    assert client.get("/nobody-here").status_code == 404


@pytest.mark.parametrize("tab", ["", "/examples", "/readme", "/api", "/versions"])
def test_every_model_tab_renders_and_marks_itself_current(client: Client, tab: str) -> None:
    model = hello_model()
    response = client.get(f"/{model.owner.username}/hello{tab}")
    assert response.status_code == 200
    assert 'aria-current="page"' in response.content.decode()


@pytest.mark.parametrize("tab", ["", "/examples", "/readme", "/api", "/versions"])
def test_a_private_model_is_the_same_404_as_a_missing_one(
    client: Client, user: Any, other_user: Any, tab: str
) -> None:
    ModelFactory(owner=user.owner, name="secret", visibility="private")
    client.force_login(other_user)
    hidden = client.get(f"/alice/secret{tab}")
    missing = client.get(f"/alice/missing{tab}")
    assert hidden.status_code == missing.status_code == 404
    assert without_csrf(hidden.content) == without_csrf(missing.content)
    client.force_login(user)
    assert client.get(f"/alice/secret{tab}").status_code == 200


def test_the_playground_renders_the_schema_as_a_form(client: Client) -> None:
    model = hello_model()
    html = client.get(f"/{model.owner.username}/hello").content.decode()
    assert 'name="text"' in html and " required" in html
    assert 'type="range"' in html and 'min="1" max="5"' in html
    assert '<select id="input-style" name="style"' in html
    assert '<option value="plain" selected>' in html
    assert 'enctype="multipart/form-data"' in html


def test_a_schema_invalid_submission_is_answered_with_messages_next_to_the_fields(
    client: Client,
) -> None:
    model = hello_model()
    response = client.post(f"/{model.owner.username}/hello", {"text": "", "repeat": "9"})
    html = response.content.decode()
    assert response.status_code == 422
    assert "This field is required." in html and "Must be at most 5." in html
    assert 'value="9"' in html  # what was typed is kept


def test_a_version_page_has_its_own_schema_table_and_playground(client: Client) -> None:
    model = hello_model()
    old = VersionFactory(model=model, openapi_schema=cog_schema("whisper"))
    newest = VersionFactory(model=model, openapi_schema=cog_schema("hello"))
    html = client.get(f"/{model.owner.username}/hello/versions/{old.id}").content.decode()
    assert 'name="audio"' in html and "schema-table" in html
    listing = client.get(f"/{model.owner.username}/hello/versions").content.decode()
    assert old.id[:13] in listing and newest.id[:13] in listing
    missing = client.get(f"/{model.owner.username}/hello/versions/nope")
    assert missing.status_code == 404
    posted = client.post(f"/{model.owner.username}/hello/versions/{old.id}", {})
    assert posted.status_code == 422 and "This field is required." in posted.content.decode()


def test_examples_show_input_and_rendered_output_side_by_side(client: Client, user: Any) -> None:
    model = hello_model(owner=user.owner)
    prediction = PredictionFactory(version=model.latest_version, output="hello Zed")
    prediction.input = {"text": "Zed", "repeat": 2}
    prediction.save()
    from registry import services

    services.example_add(actor=user, model=model, prediction=prediction)
    html = client.get("/alice/hello/examples").content.decode()
    assert "<code>text</code>" in html and "Zed" in html and "hello Zed" in html
    playground = client.get("/alice/hello").content.decode()
    assert "hello Zed" in playground and "Example output" in playground


def test_the_readme_tab_renders_sanitized_markdown(client: Client) -> None:
    model = hello_model(readme="# Usage\n\n<script>alert(1)</script>\n\n**bold**")
    html = client.get(f"/{model.owner.username}/hello/readme").content.decode()
    assert "<h1>Usage</h1>" in html and "<strong>bold</strong>" in html
    assert "alert(1)" not in html


def test_the_api_tab_has_snippets_with_this_servers_url_and_the_schema(client: Client) -> None:
    model = hello_model()
    html = client.get(f"/{model.owner.username}/hello/api").content.decode()
    assert "http://testserver/v1/predictions" in html
    assert "base_url=&quot;http://testserver&quot;" in html
    assert f"{model.full_name}:{model.latest_version_id}" in html
    assert "&quot;text&quot;: &quot;Hello, world&quot;" in html
    assert "1 to 5" in html and "Who to greet" in html
    assert html.count("copy-button") == 3


def test_a_model_without_versions_says_how_to_publish(client: Client, user: Any) -> None:
    ModelFactory(owner=user.owner, name="empty")
    client.force_login(user)
    html = client.get("/alice/empty").content.decode()
    assert "No version yet" in html and "vitrine push alice/empty" in html


# Query counts -----------------------------------------------------------------------------


def grow_catalog(models: int) -> None:
    org = OrganizationFactory()
    collections = [CollectionFactory() for _ in range(2)]
    for i in range(models):
        model = ModelFactory(featured=i % 3 == 0, owner=org if i % 2 else ModelFactory().owner)
        version = VersionFactory(model=model, openapi_schema=cog_schema("sdxl"))
        prediction = PredictionFactory(version=version)
        model.default_example = prediction
        model.save()
        add_to_collection(collections[i % 2], model)


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", ["/", "/models", "/search?q=model&output=file"])
def test_listing_pages_take_the_same_queries_for_3_and_30_models(
    client: Client, user: Any, url: str
) -> None:
    client.force_login(user)  # signed in: no anonymous cache in the way
    grow_catalog(3)
    few = count_queries(client, url)
    grow_catalog(27)
    from django.core.cache import cache

    cache.clear()
    assert count_queries(client, url) == few
    assert few <= 12


def test_the_anonymous_explore_page_takes_a_handful_of_queries(
    client: Client, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    grow_catalog(30)
    with django_assert_max_num_queries(6):
        client.get("/")


@pytest.mark.parametrize("tab", ["", "/examples", "/readme", "/api", "/versions"])
def test_model_pages_take_the_same_queries_whatever_the_catalog_size(
    client: Client, user: Any, tab: str
) -> None:
    member = user
    org = OrganizationFactory(username="acme")
    MembershipFactory(organization=org, user=member)
    model = ModelFactory(owner=org, name="big", readme="# Hi")
    version = VersionFactory(model=model, openapi_schema=cog_schema("sdxl"))
    from registry import services

    def add_example() -> None:
        prediction = PredictionFactory(version=version, output=["https://x/1.png"])
        services.example_add(actor=member, model=model, prediction=prediction)

    add_example()
    VersionFactory(model=model, openapi_schema=cog_schema("sdxl"))  # the example is older
    client.force_login(member)
    url = f"/acme/big{tab}"
    few = count_queries(client, url)
    for _ in range(10):
        add_example()
        VersionFactory(model=model, openapi_schema=cog_schema("sdxl"))
    grow_catalog(10)
    assert count_queries(client, url) == few
    assert few <= 10


# Accounts ---------------------------------------------------------------------------------


def test_signing_up_creates_the_user_and_their_namespace_and_logs_in(client: Client) -> None:
    response = client.post(
        "/signup",
        {
            "username": "zoe",
            "email": "",
            "password1": "tulip-river-42",
            "password2": "tulip-river-42",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/zoe"
    assert client.get("/zoe").context["user"].username == "zoe"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"username": "Zoe!"}, "username", "may contain only lowercase letters"),
        ({"username": "admin"}, "username", "is reserved"),
        ({"username": "alice"}, "username", "already taken"),
        ({"password2": "different-words-9"}, "password2", "The two passwords differ."),
        ({"password1": "password", "password2": "password"}, "password1", "too common"),
    ],
)
def test_signup_errors_are_shown_next_to_their_fields(
    client: Client, user: Any, data: dict[str, str], field: str, message: str
) -> None:
    form = {"username": "zoe", "password1": "tulip-river-42", "password2": "tulip-river-42"}
    response = client.post("/signup", {**form, **data})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert message in " ".join(errors[field])


def test_logging_in_and_out(client: Client, user: Any) -> None:
    response = client.post("/login", {"username": "alice", "password": "pass-word-123"})
    assert response.status_code == 302
    assert client.get("/").context["user"].is_authenticated
    client.post("/logout")
    assert not client.get("/").context["user"].is_authenticated
    bad = client.post("/login", {"username": "alice", "password": "nope"})
    assert "do not match" in bad.content.decode()


def test_account_pages_need_a_login(client: Client) -> None:
    for url in ("/account/tokens", "/new"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login?next=")


def test_the_tokens_page_shows_a_new_token_once_and_revokes_tokens(
    signed_in: Client, user: Any
) -> None:
    response = signed_in.post("/account/tokens", {"name": "laptop"})
    html = response.content.decode()
    assert response.status_code == 201
    plaintext = response.context["created"]["plaintext"]
    assert plaintext in html and response["Cache-Control"] == "no-store"
    assert plaintext not in signed_in.get("/account/tokens").content.decode()
    token = ApiToken.objects.get(user=user, name="laptop")
    assert token.hint in signed_in.get("/account/tokens").content.decode()
    revoked = signed_in.post(f"/account/tokens/{token.pk}/revoke", follow=True)
    assert "was revoked" in revoked.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_revokes_someone_elses_token(client: Client, user: Any, other_user: Any) -> None:
    from registry import services

    token, _ = services.token_create(user=user, name="mine")
    client.force_login(other_user)
    assert client.post(f"/account/tokens/{token.pk}/revoke").status_code == 404
    assert client.get(f"/account/tokens/{token.pk}/revoke").status_code == 405


def test_creating_a_model_from_the_browser(signed_in: Client, user: Any) -> None:
    response = signed_in.post(
        "/new",
        {
            "owner": "alice",
            "name": "upscaler",
            "description": "Makes images bigger",
            "visibility": "private",
            "hardware": "gpu-t4",
            "tags": "image, upscaling",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/alice/upscaler"
    model = MLModel.objects.get(owner__username="alice", name="upscaler")
    assert (model.visibility, model.hardware_id) == ("private", "gpu-t4")
    assert sorted(model.tags.values_list("name", flat=True)) == ["image", "upscaling"]


def test_model_creation_errors_are_shown_next_to_their_fields(signed_in: Client, user: Any) -> None:
    ModelFactory(owner=user.owner, name="taken")
    base = {"owner": "alice", "visibility": "public", "hardware": "cpu"}
    bad_name = signed_in.post("/new", {**base, "name": "Bad Name"})
    assert bad_name.status_code == 422
    assert "may contain only lowercase letters" in " ".join(bad_name.context["form"].errors["name"])
    taken = signed_in.post("/new", {**base, "name": "taken"})
    assert "already exists" in " ".join(taken.context["form"].errors["name"])
    other_owner = signed_in.post("/new", {**base, "owner": "mallory", "name": "x"})
    assert "owner" in other_owner.context["form"].errors


def test_an_organization_member_may_create_models_for_it(signed_in: Client, user: Any) -> None:
    MembershipFactory(organization=OrganizationFactory(username="acme"), user=user)
    assert "acme" in signed_in.get("/new").content.decode()
    response = signed_in.post(
        "/new", {"owner": "acme", "name": "tool", "visibility": "public", "hardware": "cpu"}
    )
    assert response["Location"] == "/acme/tool"


# Errors ------------------------------------------------------------------------------------


def test_the_404_page_is_the_sites_own(client: Client) -> None:
    response = client.get("/nobody/nothing/at/all")
    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()


def test_the_500_page_renders_without_a_database(rf: Any) -> None:
    from catalog.views import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500 and b"Something went wrong" in response.content
