"""Domain errors raised by services and selectors.

The API maps them to RFC 7807 problem details (`registry.api.errors`), the web pages to
messages next to form fields; neither needs to know which service raised what.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import InterfaceError, OperationalError

# Seconds a client is asked to wait when the database is unavailable.
DATABASE_RETRY_AFTER = "5"


class VitrineError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(VitrineError):
    status = 404
    title = "Not found"


class PermissionDenied(VitrineError):
    """The thing is visible to the actor, but they may not change it."""

    status = 403
    title = "Forbidden"


class Conflict(VitrineError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(VitrineError):
    status = 413
    title = "Payload too large"


class InvalidInput(VitrineError):
    """One or more named fields are wrong; `fields` maps each field to its messages."""

    status = 422
    title = "Invalid request"

    def __init__(
        self,
        fields: Mapping[str, Sequence[str]],
        *,
        title: str | None = None,
        prefix: str = "",
    ) -> None:
        self.fields = {f"{prefix}{name}": list(messages) for name, messages in fields.items()}
        if title:
            self.title = title
        lines = [f"- {name}: {msg}" for name, msgs in self.fields.items() for msg in msgs]
        super().__init__("\n".join(lines))

    @classmethod
    def single(cls, field: str, message: str) -> InvalidInput:
        return cls({field: [message]})


class ServiceUnavailable(VitrineError):
    status = 503
    title = "Service unavailable"


def database_unavailable(exc: BaseException | None) -> bool:
    """The database went away (connection refused or dropped, server shutting down, SQLite
    locked): every write is one transaction, so what was under way was rolled back and the
    request may be retried. Answered 503, not 500."""
    return isinstance(exc, OperationalError | InterfaceError)
