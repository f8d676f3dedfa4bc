"""Who sees and changes what: every actor against every kind of object, through every
channel (the API, the pages, search, webhook payloads), each cell asserted.

The policy (README, "Who sees what"):

- A private model, and everything of it (versions, predictions, examples, builds), is
  404 for anyone who may not see it — exactly like a missing one, never 403.
- Something you may see but that is not yours to change answers 403 when you try.
- Writing needs an account: anonymous writes are 401 on the API and a log-in redirect
  (302) on the pages.
- A prediction is its creator's; once shared, anyone who may see its model may see it.
  A model's owners may cancel runs of their model they can see.
- Builds and uploaded files are for those who may publish to the model / the uploader.
- Staff see everything (to operate the site) and change nothing that is not theirs here
  (403); they change the rest in the admin.

Actors: `anonymous`, `other` (a signed-in stranger), `member` (a member of the
organization `acme` that owns the models it is tested against), `owner` (the user
`alice`, who owns the models she is tested against in her own namespace) and `staff`;
and `outsider`, the stranger again against acme's models, expected to fare as `other`.
`{ns}` is the namespace of the actor's subjects: `acme` for the member and the outsider,
`alice` for the rest; the member is the one who made acme's models, runs, files and
builds, as alice made hers. In each namespace: `sunbeam` (public) and `moonlit`
(private), each with a version, an example and a build; predictions `own` (the
namespace's creator, not shared), `shared` (shared), `hidden` (of the private model) and
`stranger` (someone else's, not shared, on the public model); and a file the creator
uploaded.

Outcomes: an HTTP status, or for lists and search `present`/`absent` (whether the
subject is in the answer), or for webhooks `own` (the payload carries only the
prediction's own data).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from registry import files, services, webhooks
from registry.api.serializers import PredictionSerializer
from registry.models import Build, Collection, MLModel, Prediction
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    PredictionFactory,
    UserFactory,
    VersionFactory,
    add_to_collection,
)
from tests.receivers import receiver

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "other", "member", "owner", "staff")

# object, channel, action, then the outcome for each of ACTORS in that order.
# Actions: `GET|POST|PATCH|DELETE|QUERY <path> [json]` on the API with the actor's token;
# `PAGE <path>` / `PAGE-POST <path> [form]` on the site with the actor's session;
# `LIST <path> <subject>` / `FIND <channel> <words> <subject>`: is the subject listed;
# `WEBHOOK <model>`: run the model with a webhook and read what is delivered.
# fmt: off
MATRIX: tuple[tuple[str, str, str, Any, Any, Any, Any, Any], ...] = (
    # public model
    ("public model", "api read", "GET /v1/models/{ns}/sunbeam", 200, 200, 200, 200, 200),
    ("public model", "api read", "GET /v1/models/{ns}/sunbeam/readme", 200, 200, 200, 200, 200),
    ("public model", "api write", 'PATCH /v1/models/{ns}/sunbeam {"description": "x"}',
     401, 403, 200, 200, 403),
    ("public model", "api write", "DELETE /v1/models/{ns}/sunbeam", 401, 403, 409, 409, 403),
    ("public model", "page", "PAGE /{ns}/sunbeam", 200, 200, 200, 200, 200),
    ("public model", "page", "PAGE /{ns}/sunbeam/api", 200, 200, 200, 200, 200),
    ("public model", "search", "FIND v1-search sunbeam {ns}/sunbeam",
     "present", "present", "present", "present", "present"),
    ("public model", "search", "FIND search-page sunbeam {ns}/sunbeam",
     "present", "present", "present", "present", "present"),
    # private model
    ("private model", "api read", "GET /v1/models/{ns}/moonlit", 404, 404, 200, 200, 200),
    ("private model", "api read", "GET /v1/models/{ns}/moonlit/readme", 404, 404, 200, 200, 200),
    ("private model", "api read", "LIST /v1/models {ns}/moonlit",
     "absent", "absent", "present", "present", "present"),
    ("private model", "api read", "LIST /v1/collections/lunar {ns}/moonlit",
     "absent", "absent", "present", "present", "present"),
    ("private model", "api write", 'PATCH /v1/models/{ns}/moonlit {"description": "x"}',
     401, 404, 200, 200, 403),
    ("private model", "api write", "DELETE /v1/models/{ns}/moonlit", 401, 404, 409, 409, 403),
    ("private model", "page", "PAGE /{ns}/moonlit", 404, 404, 200, 200, 200),
    ("private model", "page", "PAGE /{ns}/moonlit/readme", 404, 404, 200, 200, 200),
    ("private model", "page", "PAGE /{ns}/moonlit/api", 404, 404, 200, 200, 200),
    ("private model", "page", "FIND owner-page - {ns}/moonlit",
     "absent", "absent", "present", "present", "present"),
    ("private model", "page", "FIND collection-page - {ns}/moonlit",
     "absent", "absent", "present", "present", "present"),
    ("private model", "page", "FIND explore-page - {ns}/moonlit",
     "absent", "absent", "present", "present", "present"),
    ("private model", "search", "FIND v1-search moonlit {ns}/moonlit",
     "absent", "absent", "present", "present", "present"),
    ("private model", "search", "FIND v1-search {ns}/moonlit {ns}/moonlit",
     "absent", "absent", "present", "present", "present"),
    ("private model", "search", "FIND query-models moonlit {ns}/moonlit",
     "absent", "absent", "present", "present", "present"),
    ("private model", "search", "FIND search-page moonlit {ns}/moonlit",
     "absent", "absent", "present", "present", "present"),
    ("private model", "search", "FIND v1-search-collections lunar {ns}/moonlit",
     "absent", "absent", "present", "present", "present"),
    ("private model", "search", "FIND tag-facet - hush-{ns}",
     "absent", "absent", "present", "present", "present"),
    ("private model", "search", "FIND page-facet - hush-{ns}",
     "absent", "absent", "present", "present", "present"),
    # versions
    ("version", "api read", "GET /v1/models/{ns}/sunbeam/versions/{v_sunbeam}",
     200, 200, 200, 200, 200),
    ("version", "api read", "GET /v1/models/{ns}/moonlit/versions/{v_moonlit}",
     404, 404, 200, 200, 200),
    ("version", "api read", "GET /v1/models/{ns}/moonlit/versions", 404, 404, 200, 200, 200),
    ("version", "api write", "DELETE /v1/models/{ns}/sunbeam/versions/{v_sunbeam}",
     401, 403, 204, 204, 403),
    ("version", "api write", "DELETE /v1/models/{ns}/moonlit/versions/{v_moonlit}",
     401, 404, 204, 204, 403),
    ("version", "api write", 'POST /v1/models/{ns}/sunbeam/versions {"cog_url": "http://cog:5000"}',
     401, 403, 202, 202, 403),
    ("version", "api write", 'POST /v1/models/{ns}/moonlit/versions {"cog_url": "http://cog:5000"}',
     401, 404, 202, 202, 403),
    ("version", "page", "PAGE /{ns}/sunbeam/versions/{v_sunbeam}", 200, 200, 200, 200, 200),
    ("version", "page", "PAGE /{ns}/moonlit/versions/{v_moonlit}", 404, 404, 200, 200, 200),
    ("version", "page", "PAGE /{ns}/sunbeam/versions/new", 302, 403, 200, 200, 403),
    ("version", "page", "PAGE /{ns}/moonlit/versions/new", 302, 404, 200, 200, 403),
    # predictions
    ("prediction", "api read", "GET /v1/predictions/{p_own}", 404, 404, 200, 200, 200),
    ("prediction", "api read", "GET /v1/predictions/{p_shared}", 200, 200, 200, 200, 200),
    ("prediction", "api read", "GET /v1/predictions/{p_hidden}", 404, 404, 200, 200, 200),
    ("prediction", "api read", "GET /v1/predictions/{p_stranger}", 404, 404, 404, 404, 200),
    ("prediction", "api read", "LIST /v1/predictions {p_own}",
     401, "absent", "present", "present", "absent"),
    ("prediction", "api write", "POST /v1/predictions/{p_own}/cancel", 401, 404, 200, 200, 403),
    ("prediction", "api write", "POST /v1/predictions/{p_shared}/cancel",
     401, 403, 200, 200, 403),
    ("prediction", "api write", "POST /v1/predictions/{p_stranger}/cancel",
     401, 404, 404, 404, 403),
    ("prediction", "api write", 'POST /v1/models/{ns}/sunbeam/predictions {"input": {"text": "a"}}',
     401, 201, 201, 201, 201),
    ("prediction", "api write", 'POST /v1/models/{ns}/moonlit/predictions {"input": {"text": "a"}}',
     401, 404, 201, 201, 201),
    ("prediction", "api write",
     'POST /v1/predictions {"version": "{v_moonlit}", "input": {"text": "a"}}',
     401, 422, 201, 201, 201),
    ("prediction", "page", "PAGE /p/{p_own}", 404, 404, 200, 200, 200),
    ("prediction", "page", "PAGE /p/{p_shared}", 200, 200, 200, 200, 200),
    ("prediction", "page", "PAGE /p/{p_hidden}", 404, 404, 200, 200, 200),
    ("prediction", "page", "PAGE /p/{p_stranger}", 404, 404, 404, 404, 200),
    ("prediction", "page", "PAGE /{ns}/sunbeam?prediction={p_own}", 404, 404, 200, 200, 200),
    ("prediction", "page", "PAGE /p/{p_own}/status", 404, 404, 200, 200, 200),
    ("prediction", "page", "PAGE /p/{p_hidden}/status", 404, 404, 200, 200, 200),
    ("prediction", "page", "PAGE-POST /{ns}/sunbeam text=a", 302, 302, 302, 302, 302),
    ("prediction", "page", "PAGE-POST /{ns}/moonlit text=a", 404, 404, 302, 302, 302),
    ("prediction", "page", "PAGE-POST /p/{p_shared}/share shared=false",
     302, 403, 302, 302, 403),
    ("prediction", "page", "PAGE-POST /p/{p_own}/cancel", 302, 404, 302, 302, 403),
    # examples
    ("example", "api read", "LIST /v1/models/{ns}/sunbeam/examples {p_example}",
     "present", "present", "present", "present", "present"),
    ("example", "api read", "LIST /v1/models/{ns}/moonlit/examples {p_hidden}",
     404, 404, "present", "present", "present"),
    ("example", "api read", "GET /v1/predictions/{p_example}", 200, 200, 200, 200, 200),
    ("example", "page", "PAGE /{ns}/sunbeam/examples", 200, 200, 200, 200, 200),
    ("example", "page", "PAGE /{ns}/moonlit/examples", 404, 404, 200, 200, 200),
    ("example", "page", "PAGE-POST /p/{p_shared}/example action=add", 302, 403, 302, 302, 403),
    ("example", "page", "PAGE-POST /p/{p_example}/example action=remove",
     302, 403, 302, 302, 403),
    # files
    ("file", "api read", "GET /v1/files/{file}", 401, 404, 200, 200, 200),
    ("file", "api read", "LIST /v1/files {file}", 401, "absent", "present", "present", "absent"),
    ("file", "api write", "DELETE /v1/files/{file}", 401, 404, 204, 204, 403),
    ("file", "page", "PAGE /v1/files/{file}/download", 404, 404, 200, 200, 200),
    # builds
    ("build", "api read", "GET /v1/builds/{b_sunbeam}", 401, 404, 200, 200, 200),
    ("build", "api read", "GET /v1/builds/{b_moonlit}", 401, 404, 200, 200, 200),
    ("build", "api read", "LIST /v1/models/{ns}/sunbeam/builds {b_sunbeam}",
     401, "absent", "present", "present", "present"),
    ("build", "api read", "LIST /v1/models/{ns}/moonlit/builds {b_moonlit}",
     401, 404, "present", "present", "present"),
    ("build", "page", "PAGE /{ns}/sunbeam/builds/{b_sunbeam}", 404, 404, 200, 200, 200),
    ("build", "page", "PAGE /{ns}/moonlit/builds/{b_moonlit}", 404, 404, 200, 200, 200),
    ("build", "page", "PAGE /{ns}/moonlit/builds/{b_moonlit}/status", 404, 404, 200, 200, 200),
    ("build", "page", "FIND versions-tab - {b_sunbeam}",
     "absent", "absent", "present", "present", "present"),
    # webhook payloads
    ("prediction", "webhook", "WEBHOOK {ns}/sunbeam", 401, "own", "own", "own", "own"),
    ("prediction", "webhook", "WEBHOOK {ns}/moonlit", 401, 404, "own", "own", "own"),
)
# fmt: on


@dataclass(frozen=True)
class Cell:
    actor: str
    subject: str
    channel: str
    action: str
    expected: Any

    @property
    def id(self) -> str:
        return f"{self.actor} | {self.subject} | {self.channel} | {self.action}"


CELLS = [
    Cell(actor, row[0], row[1], row[2], row[3 + i])
    for row in MATRIX
    for i, actor in enumerate(ACTORS)
] + [
    # The other user again, against the organization's models (not a member of it): the
    # same outcomes as against another user's models.
    Cell("outsider", row[0], row[1], row[2], row[3 + ACTORS.index("other")])
    for row in MATRIX
]


# The world ----------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, Any]
    names: dict[str, dict[str, str]]  # namespace -> placeholder -> value

    def namespace_of(self, actor: str) -> str:
        return "acme" if actor in ("member", "outsider") else "alice"

    def fill(self, text: str, actor: str) -> str:
        ns = self.namespace_of(actor)
        values = {"ns": ns, **self.names[ns]}
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        return text


def _namespace(owner: Any, creator: Any, stranger: Any) -> dict[str, str]:
    ns = owner.username
    sunbeam = services.model_create(
        actor=creator, owner=ns, name="sunbeam", description="Sunbeam greets", readme="# Hi"
    )
    moonlit = services.model_create(
        actor=creator,
        owner=ns,
        name="moonlit",
        description="Moonlit greets quietly",
        readme="# Secret",
        visibility="private",
        tags=[f"hush-{ns}"],
    )
    versions = {m.name: VersionFactory(model=m) for m in (sunbeam, moonlit)}
    collection, _ = Collection.objects.get_or_create(
        slug="lunar", defaults={"name": "Lunar", "description": "Lunar models"}
    )
    add_to_collection(collection, moonlit)
    upload = SimpleUploadedFile("in.txt", b"owner's secret bytes", "text/plain")
    file = files.file_create(owner=creator, upload=upload)

    def run(model: MLModel, by: Any, **fields: Any) -> Prediction:
        return PredictionFactory(
            version=versions[model.name],
            created_by=by,
            input={"text": f"secret input of {by.username}"},
            **fields,
        )

    own = run(sunbeam, creator)
    shared = run(sunbeam, creator, shared=True)
    example = run(sunbeam, creator)
    services.example_add(actor=creator, model=sunbeam, prediction=example)
    hidden = run(moonlit, creator)
    services.example_add(actor=creator, model=moonlit, prediction=hidden)
    stranger_run = run(sunbeam, stranger)
    builds = {
        m.name: Build.objects.create(
            model=m, created_by=creator, kind=Build.Kind.COG_URL, cog_urls=["http://cog:5000"]
        )
        for m in (sunbeam, moonlit)
    }
    return {
        "v_sunbeam": versions["sunbeam"].id,
        "v_moonlit": versions["moonlit"].id,
        "p_own": own.pk,
        "p_shared": shared.pk,
        "p_example": example.pk,
        "p_hidden": hidden.pk,
        "p_stranger": stranger_run.pk,
        "file": file.pk,
        "b_sunbeam": builds["sunbeam"].pk,
        "b_moonlit": builds["moonlit"].pk,
    }


def _world() -> World:
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    mallory = UserFactory(username="mallory")
    staff = UserFactory(username="root", is_staff=True)
    stranger = UserFactory(username="eve")
    acme = OrganizationFactory(username="acme")
    MembershipFactory(organization=acme, user=bob)
    names = {
        "alice": _namespace(alice.owner, alice, stranger),
        "acme": _namespace(acme, bob, stranger),
    }
    users = {
        "anonymous": None,
        "other": mallory,
        "outsider": mallory,
        "member": bob,
        "owner": alice,
        "staff": staff,
    }
    return World(users=users, names=names)


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """Built once for the module inside a transaction that is rolled back at its end;
    each cell runs in a savepoint of its own (what a cell writes is undone after it)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _uncached(settings: Any) -> None:
    from django.core.cache import cache

    settings.SEARCH_FACETS_CACHE_SECONDS = 0
    cache.clear()  # the explore page is cached for anonymous visitors


# Doing an action as an actor ----------------------------------------------------------


def api_client(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        token = services.token_create(user=user)[1]
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def page_client(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _api(client: APIClient, method: str, path: str, body: str = "") -> Any:
    if method == "QUERY":
        return client.generic("QUERY", path, body, content_type="text/plain")
    data = json.loads(body) if body else None
    return getattr(client, method.lower())(path, data, format="json")


def _listed(response: Any, subject: str) -> Any:
    if response.status_code != 200:
        return response.status_code
    return "present" if subject in response.content.decode() else "absent"


def _find(world: World, actor: str, channel: str, words: str, subject: str) -> str:
    """Whether `subject` (a model's full name, a tag or an id) shows through a search or
    listing channel."""
    user = world.users[actor]
    api, page = api_client(user), page_client(user)
    ns = world.namespace_of(actor)
    if channel == "v1-search":
        answer = api.get("/v1/search", {"query": words}).json()
        found = [hit["model"]["owner"] + "/" + hit["model"]["name"] for hit in answer["models"]]
    elif channel == "v1-search-collections":
        answer = api.get("/v1/search", {"query": words}).json()
        found = [name for c in answer["collections"] for name in c["models"]]
    elif channel == "query-models":
        answer = api.generic("QUERY", "/v1/models", words, content_type="text/plain").json()
        found = [f"{m['owner']}/{m['name']}" for m in answer["results"]]
    elif channel == "tag-facet":
        answer = api.get("/v1/search", {"query": ""}).json()
        found = [value["value"] for value in answer["facets"]["tag"]]
    elif channel == "page-facet":
        html = page.get("/search", {"tag": subject}).content.decode()
        return "present" if 'href="/' + ns + '/moonlit"' in html else "absent"
    elif channel in ("search-page", "owner-page", "collection-page", "explore-page"):
        path = {
            "search-page": f"/search?q={words}",
            "owner-page": f"/{ns}",
            "collection-page": "/collections/lunar",
            "explore-page": "/",
        }[channel]
        html = page.get(path).content.decode()
        return "present" if f'href="/{subject}"' in html else "absent"
    elif channel == "versions-tab":
        html = page.get(f"/{ns}/sunbeam/versions").content.decode()
        return "present" if subject in html else "absent"
    else:
        raise AssertionError(f"unknown channel {channel}")
    return "present" if subject in found else "absent"


def _webhook(world: World, actor: str, model: str, settings: Any) -> Any:
    """Run `model` with a webhook to a real receiver on loopback; deliver the completed
    event; check the payload is this prediction's GET body and nothing else."""
    settings.VITRINE_WEBHOOK_ALLOW_PRIVATE = True
    user = world.users[actor]
    with receiver() as hook:
        response = api_client(user).post(
            f"/v1/models/{model}/predictions",
            {"input": {"text": f"from {actor}"}, "webhook": hook.url},
            format="json",
        )
        if response.status_code != 201:
            return response.status_code
        prediction = Prediction.objects.select_related("model__owner").get(pk=response.json()["id"])
        outcome = webhooks.deliver(
            prediction_id=prediction.pk, event="completed", message_id="msg_1", attempt=0
        )
        assert outcome == "delivered", outcome
        hook.wait_for(lambda got: len(got) == 1)
        body = hook.requests[0].body.decode()
    payload = json.loads(body)
    own = json.loads(json.dumps(PredictionSerializer(prediction).data))
    others = [p for ns in world.names.values() for k, p in ns.items() if k.startswith("p_")]
    if payload != own or any(other in body for other in others) or "secret input" in body:
        return f"leak: {body}"
    return "own"


def do(world: World, cell: Cell, settings: Any) -> Any:
    verb, _, rest = world.fill(cell.action, cell.actor).partition(" ")
    user = world.users[cell.actor]
    if verb == "WEBHOOK":
        return _webhook(world, cell.actor, rest, settings)
    if verb == "FIND":
        channel, words, subject = rest.split(" ")
        return _find(world, cell.actor, channel, words, subject)
    if verb == "LIST":
        path, subject = rest.split(" ")
        return _listed(api_client(user).get(path), subject)
    if verb == "PAGE":
        return page_client(user).get(rest).status_code
    if verb == "PAGE-POST":
        path, _, form = rest.partition(" ")
        data = dict(pair.split("=") for pair in form.split()) if form else {}
        return page_client(user).post(path, data).status_code
    path, _, body = rest.partition(" ")
    return _api(api_client(user), verb, path, body).status_code


@pytest.mark.parametrize("cell", CELLS, ids=[cell.id for cell in CELLS])
def test_authorization_matrix(world: World, cell: Cell, settings: Any) -> None:
    assert do(world, cell, settings) == cell.expected


def test_every_actor_has_an_outcome_in_every_row() -> None:
    assert all(len(row) == 3 + len(ACTORS) for row in MATRIX)
    assert len(CELLS) == len(MATRIX) * (len(ACTORS) + 1)
    subjects = {row[0] for row in MATRIX}
    assert subjects == {
        "public model",
        "private model",
        "version",
        "prediction",
        "example",
        "file",
        "build",
    }
    channels = {row[1] for row in MATRIX}
    assert channels == {"api read", "api write", "page", "search", "webhook"}
