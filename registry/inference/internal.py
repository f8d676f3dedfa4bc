"""URLs that Cog servers call back on (webhooks, file uploads, file downloads), signed so
that only the servers Vitrine handed them to can use them.

They point at `VITRINE_INTERNAL_URL`: the address at which Cog servers reach the web
server (loopback for the local backend; a cluster-internal name in production).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from django.conf import settings


def _digest(message: str) -> bytes:
    key = hashlib.sha256(f"vitrine-internal:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def sign(purpose: str, value: str) -> str:
    return base64.urlsafe_b64encode(_digest(f"{purpose}:{value}")[:24]).decode().rstrip("=")


def verify(purpose: str, value: str, signature: str) -> bool:
    return hmac.compare_digest(sign(purpose, value), signature or "")


def base() -> str:
    return str(settings.VITRINE_INTERNAL_URL).rstrip("/")


def webhook_url(prediction_id: str) -> str:
    return f"{base()}/internal/cog/predictions/{prediction_id}?sig={sign('webhook', prediction_id)}"


def upload_url(instance_id: int) -> str:
    # coglet PUTs each output file to this URL + "/" + the file's name.
    return f"{base()}/internal/cog/uploads/{instance_id}/{sign('upload', str(instance_id))}"


def file_signature(owner: str, file_id: str, expiry: int) -> str:
    """Replicate's download signature: base64 HMAC-SHA256 of "{owner} {id} {expiry}"."""
    return base64.urlsafe_b64encode(_digest(f"{owner} {file_id} {expiry}")).decode().rstrip("=")


def file_download_url(owner: str, file_id: str, *, ttl: int = 3600, root: str | None = None) -> str:
    expiry = int(time.time()) + ttl
    signature = file_signature(owner, file_id, expiry)
    return (
        f"{(root or base()).rstrip('/')}/v1/files/{file_id}/download"
        f"?owner={owner}&expiry={expiry}&signature={signature}"
    )
