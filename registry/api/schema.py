"""What `/v1/openapi.json` says about errors: every operation lists the problem+json
answers it can give, so that clients (and schemathesis) can rely on the document.

The usual ones follow from the operation itself (400, 401, 429 and 503 anywhere: a wrong
token is refused even where anonymous reads are allowed; 404 with path parameters; 422 with
query or header parameters; 413, 415 and 422 with a body); a view adds its own with
`@problems(403, 409)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from registry.api.errors import PROBLEM_CONTENT_TYPE, TITLES

F = TypeVar("F", bound=Callable[..., Any])

WITH_BODY = {"POST", "PUT", "PATCH"}


class InvalidFieldSerializer(serializers.Serializer[Any]):
    type = serializers.CharField()
    field = serializers.CharField()
    description = serializers.CharField()


class ProblemSerializer(serializers.Serializer[Any]):
    """RFC 7807 problem details, as `registry.api.errors` writes them."""

    title = serializers.CharField()
    detail = serializers.CharField()
    status = serializers.IntegerField()
    invalid_fields = InvalidFieldSerializer(many=True, required=False)


def problems(*codes: int) -> Callable[[F], F]:
    """Document more error answers of a view method than the usual ones."""

    def mark(method: F) -> F:
        method.problems = codes  # type: ignore[attr-defined]
        return method

    return mark


class VitrineAutoSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code in sorted(self._error_codes(operation)):
            if str(code) not in responses:
                response = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    ProblemSerializer, str(code), [PROBLEM_CONTENT_TYPE]
                )
                response["description"] = TITLES.get(code, "Error")
                responses[str(code)] = response
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> set[int]:
        # Anywhere: a URL that cannot be read (a NUL), a wrong token, a rate limit
        # (VITRINE_RATE_LIMITS), a lost database.
        codes = {400, 401, 429, 503}
        locations = {parameter["in"] for parameter in operation.get("parameters", [])}
        if "path" in locations:
            codes.add(404)
        if locations - {"path"}:
            codes.add(422)
        if self.method in WITH_BODY and "requestBody" in operation:
            codes.update({413, 415, 422})
        handler = getattr(self.view, self.method.lower(), None)
        codes.update(getattr(handler, "problems", ()))
        return codes
