"""Requests refused before any view reads them: bodies larger than the endpoint accepts
(decided from Content-Length, so not a byte of an oversized upload is read) and NUL
characters in the path or query string, which no URL needs and PostgreSQL cannot store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from registry.api.errors import problem_response

# Room for the multipart envelope (boundaries, part headers, small fields) around a file.
MULTIPART_SLACK = 64 * 1024
# Endpoints that take a project archive; the rest of the multipart ones take files.
SOURCE_UPLOAD_VIEWS = {"api:model-versions", "catalog:version-new"}
FILE_UPLOAD_VIEWS = {"api:files"}
UNCHECKED_PREFIXES = ("/internal/",)  # Cog's callbacks have limits of their own


def body_limit(request: HttpRequest) -> tuple[int, str]:
    """The most this request's body may hold, and the setting that says so."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if not content_type.startswith("multipart/"):
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE, "VITRINE_MAX_JSON_BYTES"
    view = request.resolver_match.view_name if request.resolver_match else ""
    if view in FILE_UPLOAD_VIEWS:
        return settings.VITRINE_MAX_FILE_BYTES + MULTIPART_SLACK, "VITRINE_MAX_FILE_BYTES"
    if view in SOURCE_UPLOAD_VIEWS:
        return settings.VITRINE_MAX_SOURCE_BYTES + MULTIPART_SLACK, "VITRINE_MAX_SOURCE_BYTES"
    # Forms with file inputs (the playground): each file is checked again on its own.
    limit = max(settings.VITRINE_MAX_FILE_BYTES, settings.VITRINE_MAX_SOURCE_BYTES)
    return limit + MULTIPART_SLACK, "VITRINE_MAX_FILE_BYTES"


def refusal(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    if request.path.startswith("/v1/"):
        return problem_response(status, detail)
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


class RequestLimitsMiddleware:
    """Placed before CsrfViewMiddleware, whose `process_view` reads form bodies."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return refusal(request, 400, "The URL contains a NUL character.")
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if request.path.startswith(UNCHECKED_PREFIXES):
            return None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return refusal(request, 400, "Content-Length is not a number.")
        limit, setting = body_limit(request)
        if length > limit:
            return refusal(
                request,
                413,
                f"The request body is {length} bytes; this endpoint takes at most {limit} "
                f"({setting}).",
            )
        return None
