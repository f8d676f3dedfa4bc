from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_createtoken_creates_the_user_and_prints_a_working_token(api: Any) -> None:
    out = StringIO()
    call_command("createtoken", "scripted", stdout=out, stderr=StringIO())
    token = out.getvalue().strip()
    assert token.startswith("vt_")
    assert get_user_model().objects.get(username="scripted").owner.username == "scripted"
    account = api.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert account["username"] == "scripted"


def test_createtoken_gives_existing_users_a_second_token(user: Any) -> None:
    first, second = StringIO(), StringIO()
    call_command("createtoken", "alice", stdout=first)
    call_command("createtoken", "alice", stdout=second)
    assert first.getvalue() != second.getvalue()
    assert user.api_tokens.count() == 2


def test_createtoken_rejects_names_that_cannot_be_owners() -> None:
    with pytest.raises(CommandError, match="lowercase"):
        call_command("createtoken", "Not Valid", stdout=StringIO())
