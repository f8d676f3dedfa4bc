"""Absolute URLs of Vitrine's resources, for API answers and webhook payloads."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def base_url(request: HttpRequest | None = None) -> str:
    """The public root of this server, without a trailing slash."""
    if settings.PUBLIC_URL:
        return str(settings.PUBLIC_URL)
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return str(settings.VITRINE_INTERNAL_URL).rstrip("/")


def absolute(path: str, request: HttpRequest | None = None) -> str:
    return base_url(request) + path


def model_web_path(owner: str, name: str) -> str:
    return f"/{owner}/{name}"


def prediction_web_path(prediction_id: str) -> str:
    return f"/p/{prediction_id}"


def prediction_api_path(prediction_id: str) -> str:
    return f"/v1/predictions/{prediction_id}"
