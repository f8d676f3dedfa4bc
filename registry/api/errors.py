"""RFC 7807 problem details for every API error, as Replicate answers them.

`{"title", "detail", "status"}` with `Content-Type: application/problem+json`; field
errors add `invalid_fields: [{type, field, description}]`.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from registry.errors import (
    DATABASE_RETRY_AFTER,
    InvalidInput,
    VitrineError,
    database_unavailable,
)

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
DATABASE_UNAVAILABLE_DETAIL = (
    "The database is unavailable, so this request was not completed; "
    "nothing it was writing was saved. Try again shortly."
)

TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status_code: int, detail: str, title: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": title or TITLES.get(status_code, "Error"),
        "detail": detail,
        "status": status_code,
    }
    body.update(extra)
    return body


def _flatten(errors: Any, prefix: str = "") -> list[tuple[str, str]]:
    """DRF's nested validation errors as (field path, message) pairs."""
    if isinstance(errors, dict):
        pairs = []
        for key, value in errors.items():
            name = prefix if key == "non_field_errors" else f"{prefix}{key}"
            pairs.extend(_flatten(value, f"{name}." if name else ""))
        return [(path.rstrip("."), msg) for path, msg in pairs]
    if isinstance(errors, list):
        pairs = []
        for index, item in enumerate(errors):
            if isinstance(item, dict | list):
                pairs.extend(_flatten(item, f"{prefix}{index}."))
            else:
                pairs.append((prefix, str(item)))
        return pairs
    return [(prefix, str(errors))]


def invalid_fields_body(fields: dict[str, list[str]], title: str) -> dict[str, Any]:
    invalid = [
        {"type": "invalid", "field": name, "description": message}
        for name, messages in fields.items()
        for message in messages
    ]
    detail = "\n".join(f"- {i['field']}: {i['description']}" for i in invalid)
    return problem(422, detail, title, invalid_fields=invalid)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidInput):
        body = invalid_fields_body(exc.fields, exc.title)
        code = 422
    elif isinstance(exc, VitrineError):
        code = exc.status
        body = problem(code, exc.detail, exc.title)
    elif isinstance(exc, exceptions.ValidationError):
        fields: dict[str, list[str]] = {}
        for path, message in _flatten(exc.detail):
            fields.setdefault(path or "body", []).append(message)
        body = invalid_fields_body(fields, "Invalid request")
        code = 422
    elif isinstance(exc, exceptions.APIException):
        code = exc.status_code
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        body = problem(code, detail)
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            body = problem(401, detail, "Unauthenticated")
            code = 401
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
    elif database_unavailable(exc):
        logger.error("Database unavailable: %s", exc)
        code = 503
        body = problem(code, DATABASE_UNAVAILABLE_DETAIL)
        headers["Retry-After"] = DATABASE_RETRY_AFTER
    elif isinstance(exc, DataError):
        # A value the database cannot hold: a NUL character, a number out of range.
        code = 400
        body = problem(code, f"A value in the request cannot be stored: {str(exc).splitlines()[0]}")
    elif isinstance(exc, Http404):
        code = 404
        body = problem(code, "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        code = 403
        body = problem(code, "You are not allowed to do that.")
    else:
        return None
    return Response(body, status=code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def problem_response(status_code: int, detail: str, title: str | None = None) -> JsonResponse:
    return JsonResponse(
        problem(status_code, detail, title), status=status_code, content_type=PROBLEM_CONTENT_TYPE
    )


def api_not_found(request: HttpRequest) -> JsonResponse:
    return problem_response(status.HTTP_404_NOT_FOUND, f"No API endpoint at {request.path}.")


def api_server_error(request: HttpRequest) -> JsonResponse:
    return problem_response(500, "The server failed to handle this request.")


def api_database_unavailable(request: HttpRequest) -> JsonResponse:
    response = problem_response(503, DATABASE_UNAVAILABLE_DETAIL)
    response["Retry-After"] = DATABASE_RETRY_AFTER
    return response


def api_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """What Django itself refuses before a view runs (a body over `DATA_UPLOAD_MAX_MEMORY_SIZE`,
    too many fields, a suspicious file name), as problem+json rather than an HTML page."""
    if isinstance(exception, RequestDataTooBig):
        return problem_response(413, "The request body is too large.")
    return problem_response(400, "The request could not be read.")
