"""A client for Cog's HTTP API (what `cog build` images and coglet serve on port 5000).

The same code drives a coglet process started here and a container started elsewhere.
See `../shared/reference/replicate-api.md` §4 for the protocol.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import httpx

WEBHOOK_EVENTS = ["start", "output", "logs", "completed"]


class CogError(Exception):
    """Talking to a Cog server failed."""


class CogUnreachable(CogError):
    """Connection refused, reset or timed out: the server is gone or hung."""


class CogTimeout(CogUnreachable):
    """The server did not answer in time (it may still be working)."""


class CogBusy(CogError):
    """409: every prediction slot is taken; try again shortly."""


class CogNotReady(CogError):
    """503: the server is still starting, or its setup failed."""


class CogRejected(CogError):
    """422 or another 4xx: Cog refused the request itself (e.g. its own input validation)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"Cog answered {status}: {body}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class CogHealth:
    status: str  # STARTING, READY, BUSY, SETUP_FAILED, DEFUNCT, UNHEALTHY, UNKNOWN
    setup_status: str | None
    setup_logs: str
    raw: dict[str, Any]

    @property
    def ready(self) -> bool:
        return self.status in ("READY", "BUSY")


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def _http() -> httpx.Client:
    """One keep-alive pool per process, shared by its threads (httpx clients are thread
    safe). Making a client costs ~15 ms (its TLS context): never do it per request."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = httpx.Client(
                    timeout=httpx.Timeout(30.0, connect=2.0),
                    limits=httpx.Limits(max_keepalive_connections=64, max_connections=128),
                    follow_redirects=False,
                )
    return _client


class CogClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def _request(
        self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any
    ) -> httpx.Response:
        extra: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
        try:
            return _http().request(method, self.base_url + path, **kwargs, **extra)
        except httpx.TimeoutException as e:
            raise CogTimeout(f"{self.base_url}: {type(e).__name__}: {e}") from e
        except httpx.TransportError as e:
            raise CogUnreachable(f"{self.base_url}: {type(e).__name__}: {e}") from e

    def health(self, timeout: float = 2.0) -> CogHealth:
        response = self._request("GET", "/health-check", timeout=timeout)
        if response.status_code != 200:
            raise CogError(f"{self.base_url}/health-check answered {response.status_code}")
        body = response.json()
        setup = body.get("setup") or {}
        return CogHealth(
            status=str(body.get("status", "UNKNOWN")),
            setup_status=setup.get("status"),
            setup_logs=str(setup.get("logs") or ""),
            raw=body,
        )

    def root(self) -> dict[str, Any]:
        response = self._request("GET", "/", timeout=5.0)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def openapi(self) -> dict[str, Any]:
        response = self._request("GET", "/openapi.json", timeout=10.0)
        if response.status_code != 200:
            raise CogError(f"{self.base_url}/openapi.json answered {response.status_code}")
        body: dict[str, Any] = response.json()
        return body

    def start_prediction(
        self,
        prediction_id: str,
        *,
        input: dict[str, Any],
        webhook: str,
        events: list[str] | None = None,
    ) -> dict[str, Any]:
        """`PUT /predictions/{id}` with `Prefer: respond-async`: Cog answers 202 at once and
        reports progress to `webhook`. Idempotent: a repeat of a running id is harmless."""
        response = self._request(
            "PUT",
            f"/predictions/{prediction_id}",
            headers={"Prefer": "respond-async"},
            json={
                "id": prediction_id,
                "input": input,
                "webhook": webhook,
                "webhook_events_filter": events or WEBHOOK_EVENTS,
            },
            timeout=10.0,
        )
        return _prediction_answer(response, accepted=(200, 202))

    def predict(
        self, prediction_id: str, *, input: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        """A synchronous run (`PUT /predictions/{id}` without `Prefer: respond-async`): the
        answer carries the finished prediction. No webhook: building Cog's webhook sender
        costs ~4 ms per run. Closing the connection early makes Cog cancel the run."""
        response = self._request(
            "PUT",
            f"/predictions/{prediction_id}",
            json={"id": prediction_id, "input": input},
            timeout=timeout,
        )
        return _prediction_answer(response, accepted=(200,))

    def cancel(self, prediction_id: str) -> bool:
        response = self._request("POST", f"/predictions/{prediction_id}/cancel", timeout=5.0)
        return response.status_code == 200


def _prediction_answer(response: httpx.Response, *, accepted: tuple[int, ...]) -> dict[str, Any]:
    """The body of an accepted prediction request, or the error its status means."""
    if response.status_code in accepted:
        body: dict[str, Any] = response.json()
        return body
    if response.status_code == 409:
        raise CogBusy(response.text)
    if response.status_code == 503:
        raise CogNotReady(response.text)
    try:
        detail: Any = response.json()
    except ValueError:
        detail = response.text
    raise CogRejected(response.status_code, detail)
