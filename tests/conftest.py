"""Shared fixtures: users with tokens, API clients, and the real `replicate` client
pointed at a live test server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from registry import backends, services
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_backends() -> Any:
    backends.reset()
    yield
    backends.reset()


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """Transactional tests flush the tables that migrations seeded: put them back."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    if transactional or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        services.hardware_ensure_defaults()


@pytest.fixture(autouse=True)
def _no_cached_lookups() -> None:
    """Each test starts with an empty schema-lookup cache (a flushed test database's
    TRUNCATE is announced too, but asynchronously)."""
    from registry.lookup_cache import cache

    cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _change_listener_hangs_up(django_db_setup: Any) -> Any:
    """The change listener holds its own connection: close it before the test database
    is dropped (this fixture is torn down before `django_db_setup`)."""
    from registry import events

    yield
    events.stop_listening()


@pytest.fixture
def user(db: Any) -> Any:
    return UserFactory(username="alice")


@pytest.fixture
def other_user(db: Any) -> Any:
    return UserFactory(username="mallory")


@pytest.fixture
def make_token(db: Any) -> Callable[[Any], str]:
    def make(user: Any) -> str:
        return services.token_create(user=user, name="test")[1]

    return make


@pytest.fixture
def token(user: Any, make_token: Callable[[Any], str]) -> str:
    return make_token(user)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def auth_api(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def replicate_client(live_server: Any, token: str) -> Any:
    """The real `replicate` 1.0.7 client (the PyPI package), talking to a live server."""
    import replicate

    return replicate.Client(api_token=token, base_url=live_server.url)


COG_FIXTURES = Path(__file__).parent / "fixtures" / "cog"


@pytest.fixture
def cog_live(live_server: Any, settings: Any) -> Any:
    """A live server that Cog servers call back on (webhooks, uploads, file inputs).
    Cog processes started during the test are stopped after it."""
    settings.VITRINE_INTERNAL_URL = live_server.url
    settings.VITRINE_WEBHOOK_ALLOW_PRIVATE = True
    backends.reset()
    yield live_server
    backends.reset()


def publish(model: Any, project: str | Path, actor: Any) -> Any:
    """Build a fixture project into a version of `model` through the real build path."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from registry import archives, builds

    root = COG_FIXTURES / project if isinstance(project, str) else project
    upload = SimpleUploadedFile("project.tar.gz", archives.pack(root), "application/gzip")
    build = builds.build_create_from_archive(actor=actor, model=model, upload=upload)
    build.refresh_from_db()
    assert build.status == "succeeded", f"{build.error}\n{build.logs}"
    return build.version


@pytest.fixture
def hello_version(cog_live: Any, user: Any) -> Any:
    from tests.factories import ModelFactory

    return publish(ModelFactory(owner=user.owner, name="hello"), "hello", user)
