"""Validation of the names that appear in URLs: owners and models (`owner/name`)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# Lowercase letters, digits and `-`, `_`, `.`; starting and ending with a letter or digit,
# as on Replicate. The same rule for owners keeps every `owner/name` URL-safe.
NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$")
OWNER_MAX_LENGTH = 39
MODEL_MAX_LENGTH = 100

# Top-level paths of the web UI and the API that an owner name would shadow.
RESERVED_OWNER_NAMES = frozenset(
    {
        "about", "account", "accounts", "admin", "api", "builds", "collections", "docs",
        "explore", "files", "healthz", "login", "logout", "media", "models", "new", "p",
        "predictions", "search", "settings", "signup", "static", "tokens", "v1", "www",
    }
)  # fmt: skip


def _check_name(value: str, *, what: str, max_length: int) -> None:
    if not value:
        raise ValidationError(f"{what} name must not be empty.", code="required")
    if len(value) > max_length:
        raise ValidationError(
            f"{what} name must be at most {max_length} characters.", code="max_length"
        )
    if not NAME_PATTERN.match(value):
        raise ValidationError(
            f"{what} name {value!r} may contain only lowercase letters, digits, '-', '_' and '.',"
            " and must start and end with a letter or digit.",
            code="invalid",
        )


def validate_owner_name(value: str) -> None:
    _check_name(value, what="Owner", max_length=OWNER_MAX_LENGTH)
    if value in RESERVED_OWNER_NAMES:
        raise ValidationError(f"Owner name {value!r} is reserved.", code="reserved")


def validate_model_name(value: str) -> None:
    _check_name(value, what="Model", max_length=MODEL_MAX_LENGTH)
