"""Cursor pages `{next, previous, results}` with absolute `next`/`previous` URLs."""

from __future__ import annotations

from base64 import b64decode
from typing import Any
from urllib.parse import parse_qs

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from registry.errors import InvalidInput

INVALID_CURSOR = "Invalid cursor: pass back a `next` or `previous` URL as it was given."
MAX_CURSOR_LENGTH = 1024  # a position is one value of one field


def _well_formed(encoded: str) -> bool:
    """What DRF's cursors look like: short base64 of `o=…&r=…&p=…`, nothing else."""
    if len(encoded) > MAX_CURSOR_LENGTH:
        return False
    try:
        tokens = parse_qs(b64decode(encoded, validate=True).decode("ascii"), strict_parsing=True)
    except ValueError:
        return False
    return bool(tokens) and set(tokens) <= {"o", "r", "p"}


class VitrineCursorPagination(CursorPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    # The view passes the order it wants through `get_ordering`; this is the default.
    ordering = ("-created_at", "-id")

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        self.model: type[models.Model] = queryset.model
        ordering = getattr(view, "pagination_ordering", None)
        if ordering is not None:
            return tuple(ordering(request) if callable(ordering) else ordering)
        return tuple(self.ordering)

    def decode_cursor(self, request: Request) -> Cursor | None:
        """A cursor is opaque, but forgeable: a bad one is the client's mistake (422), and
        its position must be a value of the ordering field before it reaches a query."""
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and not _well_formed(encoded):
            raise InvalidInput.single("cursor", INVALID_CURSOR)
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise InvalidInput.single("cursor", INVALID_CURSOR) from None
        if cursor is not None and cursor.position is not None:
            self._check_position(str(cursor.position))
        return cursor

    def _check_position(self, position: str) -> None:
        if "\x00" in position:
            raise InvalidInput.single("cursor", INVALID_CURSOR)
        try:
            field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
        except FieldDoesNotExist:
            return
        if not isinstance(field, models.Field):
            return
        try:
            field.run_validators(field.to_python(position))
        except ValidationError:
            raise InvalidInput.single("cursor", INVALID_CURSOR) from None

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }


class PredictionPagination(VitrineCursorPagination):
    page_size = 100
