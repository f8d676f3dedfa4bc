"""Webhooks to users: the prediction's GET body, signed per Standard Webhooks with the
account's `whsec_` secret, retried with backoff, `output`/`logs` at most every 500 ms.

Webhook URLs must not point at loopback, link-local or private addresses (the server
would otherwise be a proxy into its own network) unless VITRINE_WEBHOOK_ALLOW_PRIVATE.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from registry.errors import InvalidInput
from registry.models import Owner, Prediction

logger = logging.getLogger(__name__)

EVENTS = ("start", "output", "logs", "completed")
# Replicate's default: new outputs and completion.
DEFAULT_EVENTS = ["output", "completed"]
THROTTLED = ("output", "logs")
THROTTLE_SECONDS = 0.5
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# One client for every delivery: its TLS context and connections are made once.
CLIENT = httpx.Client(timeout=TIMEOUT, follow_redirects=False)


def events_filter(value: Any, errors: dict[str, list[str]]) -> list[str]:
    if value is None:
        return list(DEFAULT_EVENTS)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors["webhook_events_filter"] = ["Must be a list of event names."]
        return []
    unknown = sorted(set(value) - set(EVENTS))
    if unknown:
        errors["webhook_events_filter"] = [
            f"Unknown event(s) {', '.join(unknown)}; choose from {', '.join(EVENTS)}."
        ]
    return [e for e in EVENTS if e in value]


def _forbidden_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_url(url: str) -> str | None:
    """Refuse non-http(s) URLs and, unless allowed, hosts that resolve to non-public IPs.

    Returns the address checked, which the delivery then connects to (None when private
    addresses are allowed): resolving the name again at send time would let a DNS answer
    that changed in between (DNS rebinding) reach an address that was never checked.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput.single("webhook", "Must be an http:// or https:// URL.")
    if settings.VITRINE_WEBHOOK_ALLOW_PRIVATE:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = [str(info[4][0]) for info in socket.getaddrinfo(parts.hostname, port)]
    except (socket.gaierror, UnicodeError, ValueError) as e:
        raise InvalidInput.single("webhook", f"The host {parts.hostname} does not resolve.") from e
    if not addresses or any(_forbidden_address(a) for a in addresses):
        raise InvalidInput.single(
            "webhook",
            f"{parts.hostname} resolves to a loopback, link-local or private address; "
            "webhooks go to public addresses only.",
        )
    return addresses[0]


def pinned_request(url: str, address: str | None) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL to send to, extra headers and httpx extensions, connecting to `address`
    while the server still sees (Host) and TLS verifies (SNI) the name in the URL."""
    if address is None:
        return url, {}, {}
    parts = urlsplit(url)
    hostname = parts.hostname or ""
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    userinfo, _, original = parts.netloc.rpartition("@")
    netloc = f"{userinfo}@{netloc}" if userinfo else netloc
    extensions = {"sni_hostname": hostname} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": original}, extensions


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256>` of `{id}.{timestamp}.{body}` with the decoded secret."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def schedule(prediction: Prediction, happened: set[str]) -> None:
    """Queue deliveries for the events that just happened and that the filter asks for."""
    if not prediction.webhook:
        return
    from registry import tasks

    wanted = set(prediction.webhook_events_filter or DEFAULT_EVENTS) & happened
    for event in ("start", "completed"):
        if event in wanted:
            tasks.deliver_webhook.enqueue(prediction.pk, event, f"msg_{prediction.pk}_{event}", 0)
    throttled = [e for e in THROTTLED if e in wanted]
    if throttled and "completed" not in wanted:
        _schedule_throttled(prediction, throttled[0])


def _schedule_throttled(prediction: Prediction, event: str) -> None:
    """At most one output/logs delivery per 500 ms; the body is read at delivery time, so
    a skipped event's news arrives with the next one."""
    from registry import tasks

    now = timezone.now()
    with transaction.atomic():
        current = Prediction.objects.select_for_update().get(pk=prediction.pk)
        last = current.webhook_sent_at
        if last is not None and last > now:
            return  # a delivery is already scheduled and will carry this change
        send_at = now if last is None else max(now, last + timedelta(seconds=THROTTLE_SECONDS))
        current.webhook_sent_at = send_at
        current.save(update_fields=["webhook_sent_at"])
    message_id = f"msg_{prediction.pk}_{event}_{int(send_at.timestamp() * 1000)}"
    delay = (send_at - now).total_seconds()
    transaction.on_commit(
        lambda: tasks.enqueue_later(
            tasks.deliver_webhook, delay, prediction.pk, event, message_id, 0
        )
    )


def body_of(prediction: Prediction) -> bytes:
    from registry.api.serializers import PredictionSerializer

    return json.dumps(PredictionSerializer(prediction).data, separators=(",", ":")).encode()


def deliver(*, prediction_id: str, event: str, message_id: str, attempt: int) -> str:
    from registry import tasks

    prediction = (
        Prediction.objects.select_related("model__owner", "created_by")
        .filter(pk=prediction_id)
        .first()
    )
    if prediction is None or not prediction.webhook:
        return "gone"
    owner = Owner.objects.filter(user=prediction.created_by).first()
    if owner is None:
        return "no account"
    try:
        address = check_url(prediction.webhook)
    except InvalidInput as e:
        logger.warning("Not sending webhook for %s: %s", prediction_id, e.detail)
        return "refused"
    body = body_of(prediction)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "vitrine-webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(owner.webhook_secret, message_id, timestamp, body),
    }
    url, pinned_headers, extensions = pinned_request(prediction.webhook, address)
    try:
        response = CLIENT.post(
            url, content=body, headers={**headers, **pinned_headers}, extensions=extensions
        )
        delivered = 200 <= response.status_code < 300
        outcome = f"HTTP {response.status_code}"
    except httpx.HTTPError as e:
        delivered, outcome = False, f"{type(e).__name__}"
    if delivered:
        return "delivered"
    if attempt + 1 < settings.VITRINE_WEBHOOK_RETRIES:
        tasks.enqueue_later(
            tasks.deliver_webhook,
            min(2.0**attempt, 60.0),
            prediction_id,
            event,
            message_id,
            attempt + 1,
        )
        return f"retrying after {outcome}"
    logger.warning("Gave up on webhook %s for %s after %s", message_id, prediction_id, outcome)
    return f"gave up after {outcome}"
