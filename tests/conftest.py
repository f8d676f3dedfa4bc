"""Shared fixtures: users with tokens, API clients, and the real `replicate` client
pointed at a live test server."""

from __future__ import annotations

from collections.abc import Callable
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
