"""Cursor pages `{next, previous, results}` with absolute `next`/`previous` URLs."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import DataError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from registry.errors import InvalidInput

INVALID_CURSOR = "Invalid cursor: use the `next` or `previous` link of a page."


class VitrineCursorPagination(CursorPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    # The view passes the order it wants through `get_ordering`; this is the default.
    ordering = ("-created_at", "-id")

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        ordering = getattr(view, "pagination_ordering", None)
        if ordering is not None:
            return tuple(ordering(request) if callable(ordering) else ordering)
        return tuple(self.ordering)

    def decode_cursor(self, request: Any) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise InvalidInput.single("cursor", INVALID_CURSOR) from None

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, ValidationError, DataError):
            # A cursor decodes, but its position does not fit the ordering field (a
            # hand-made cursor): the query cannot be built or run.
            if not request.query_params.get(self.cursor_query_param):
                raise
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
