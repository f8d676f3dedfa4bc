"""API token authentication: `Authorization: Bearer <token>` or `Token <token>`.

Replicate's client sends `Bearer` (older ones `Token`); both are accepted. A header that
is present but wrong is a 401 even on endpoints that allow anonymous reads, as on Replicate.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from registry import services
from registry.models import ApiToken

KEYWORDS = {"bearer", "token"}
INVALID_TOKEN = "You did not pass a valid authentication token"  # noqa: S105


class ApiTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _, plaintext = header.strip().partition(" ")
        plaintext = plaintext.strip()
        if keyword.lower() not in KEYWORDS or not plaintext or " " in plaintext:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        token = services.token_authenticate(plaintext=plaintext)
        if token is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Without a challenge DRF would turn 401 into 403.
        return 'Bearer realm="vitrine"'


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describes the token scheme in `/v1/openapi.json`."""

    target_class = ApiTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
