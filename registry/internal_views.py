"""Endpoints that Cog servers call back on: prediction webhooks and output uploads.

Every URL carries a signature made when Vitrine handed it to the server
(`registry.inference.internal`); anything else is refused.
"""

from __future__ import annotations

import json
import logging
import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.text import get_valid_filename
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from registry import predictions
from registry.errors import VitrineError
from registry.inference import internal

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 1024 * 1024 * 1024


@csrf_exempt
@require_http_methods(["POST"])
def cog_webhook(request: HttpRequest, prediction_id: str) -> HttpResponse:
    if not internal.verify("webhook", prediction_id, request.GET.get("sig", "")):
        return JsonResponse({"detail": "bad signature"}, status=403)
    try:
        payload = json.loads(request.body)
    except ValueError:
        return JsonResponse({"detail": "body is not JSON"}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"detail": "body is not a JSON object"}, status=400)
    try:
        predictions.apply_cog_update(prediction_id=prediction_id, payload=payload)
    except VitrineError as e:
        return JsonResponse({"detail": e.detail}, status=e.status)
    return JsonResponse({})


@csrf_exempt
@require_http_methods(["PUT", "POST"])
def cog_upload(
    request: HttpRequest, instance_id: str, signature: str, filename: str
) -> HttpResponse:
    """coglet's `--upload-url`: one output file per request; answer with where it lives."""
    if not internal.verify("upload", instance_id, signature):
        return JsonResponse({"detail": "bad signature"}, status=403)
    if len(request.body) > MAX_UPLOAD_BYTES:
        return JsonResponse({"detail": "too large"}, status=413)
    name = get_valid_filename(filename.rsplit("/", 1)[-1]) or "output"
    # An unguessable folder: output URLs are capabilities, like Replicate's delivery URLs.
    stored = default_storage.save(
        f"outputs/{secrets.token_urlsafe(16)}/{name}", ContentFile(request.body)
    )
    url = predictions.absolute_file_url(stored)
    response = JsonResponse({"url": url}, status=201)
    response["Location"] = url
    return response
