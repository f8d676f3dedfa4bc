"""Prediction endpoints: create (with `Prefer: wait`), get, list, cancel, stream."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response

from registry import predictions, selectors
from registry.api import streams
from registry.api.pagination import PredictionPagination
from registry.api.schema import problems
from registry.api.serializers import PredictionCreateSerializer, PredictionSerializer
from registry.api.views import ApiView
from registry.errors import InvalidInput, NotFound
from registry.inference import internal
from registry.models import Prediction, Version

PREFER_WAIT = re.compile(r"^\s*wait(?:=(?P<seconds>[1-9]|[1-5][0-9]|60))?\s*$")
DURATION_PART = re.compile(r"(\d+)(h|m|s)")
MAX_WAIT = 60


def prefer_wait(request: Request) -> int | None:
    """Seconds to hold the request for `Prefer: wait[=N]`, or None."""
    header = request.headers.get("Prefer", "")
    if not header:
        return None
    for preference in header.split(","):
        match = PREFER_WAIT.match(preference)
        if match:
            return int(match["seconds"] or MAX_WAIT)
    if "wait" in header:
        raise InvalidInput.single("Prefer", "Use `wait` or `wait=N` with N from 1 to 60.")
    return None


def cancel_after(request: Request) -> float | None:
    """`Cancel-After: 30s | 5m | 1h30m` (at least 5 s), counted from creation."""
    header = request.headers.get("Cancel-After", "").strip()
    if not header:
        return None
    parts = DURATION_PART.findall(header)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != header.replace(" ", ""):
        raise InvalidInput.single("Cancel-After", "Use a duration like 30s, 5m or 1h30m.")
    seconds = sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)
    if seconds < 5:
        raise InvalidInput.single("Cancel-After", "Must be at least 5 seconds.")
    return float(seconds)


def create_and_answer(request: Request, version: Version) -> Response:
    data = PredictionCreateSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    body = data.validated_data
    wait = prefer_wait(request)
    webhook = body.get("webhook") or body.get("webhook_completed") or None
    events = body.get("webhook_events_filter")
    if not body.get("webhook") and body.get("webhook_completed"):
        events = ["completed"]
    prediction = predictions.prediction_create(
        actor=request.user,
        version=version,
        input=body.get("input"),
        webhook=webhook,
        webhook_events_filter=events,
        stream=bool(body.get("stream")),
        source=Prediction.Source.API,
        cancel_after=cancel_after(request),
        wait=wait,
    )
    headers = {"Location": request.build_absolute_uri(f"/v1/predictions/{prediction.pk}")}
    if wait is not None:
        prediction = predictions.wait(prediction, timeout=wait)
        headers["Preference-Applied"] = f"wait={wait}" if wait != MAX_WAIT else "wait"
    data_out = dict(PredictionSerializer(prediction, context={"request": request}).data)
    if wait is not None and not prediction.is_terminal:
        # replicate-python treats anything but "starting" as finished and would stop
        # polling; Replicate's API answers "starting" when the wait runs out.
        data_out["status"] = Prediction.Status.STARTING
    return Response(data_out, status=status.HTTP_201_CREATED, headers=headers)


class PredictionListView(ApiView):
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = PredictionPagination
    pagination_ordering = ("-created_at", "-id")

    @extend_schema(
        operation_id="predictions_list",
        parameters=[
            OpenApiParameter("created_after", str),
            OpenApiParameter("created_before", str),
            OpenApiParameter("source", str, enum=["api", "web"]),
        ],
        responses=PredictionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        bounds = {}
        for name in ("created_after", "created_before"):
            raw = request.query_params.get(name)
            if raw:
                parsed = parse_datetime(raw)
                if parsed is None:
                    raise InvalidInput.single(name, "Must be an ISO 8601 date-time.")
                bounds[name] = parsed
        source = request.query_params.get("source")
        if source and source not in Prediction.Source.values:
            raise InvalidInput.single("source", "Must be 'api' or 'web'.")
        listed = predictions.prediction_list(user=request.user, source=source, **bounds)
        return self.paginate(listed, PredictionSerializer)

    @extend_schema(
        operation_id="predictions_create",
        request=PredictionCreateSerializer,
        responses={201: PredictionSerializer},
        parameters=[
            OpenApiParameter("Prefer", str, OpenApiParameter.HEADER),
            OpenApiParameter("Cancel-After", str, OpenApiParameter.HEADER),
        ],
    )
    @problems(404)  # `version: "owner/name"` of a model that does not exist, as on Replicate
    def post(self, request: Request) -> Response:
        ref = request.data.get("version") if isinstance(request.data, dict) else None
        if not ref:
            raise InvalidInput.single("version", "This field is required.")
        version = predictions.resolve_version(ref=str(ref), user=request.user)
        return create_and_answer(request, version)


class ModelPredictionCreateView(ApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="models_predictions_create",
        request=PredictionCreateSerializer,
        responses={201: PredictionSerializer},
    )
    def post(self, request: Request, owner: str, name: str) -> Response:
        model = selectors.model_get(owner=owner, name=name, user=request.user)
        return create_and_answer(request, predictions.latest_version(model))


class PredictionDetailView(ApiView):
    @extend_schema(operation_id="predictions_get", responses=PredictionSerializer)
    def get(self, request: Request, prediction_id: str) -> Response:
        prediction = predictions.prediction_get(prediction_id=prediction_id, user=request.user)
        return Response(PredictionSerializer(prediction, context={"request": request}).data)


class PredictionCancelView(ApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="predictions_cancel", request=None, responses=PredictionSerializer)
    def post(self, request: Request, prediction_id: str) -> Response:
        prediction = predictions.prediction_get(prediction_id=prediction_id, user=request.user)
        prediction = predictions.prediction_cancel(actor=request.user, prediction=prediction)
        return Response(PredictionSerializer(prediction, context={"request": request}).data)


def prediction_stream(request: HttpRequest, prediction_id: str) -> StreamingHttpResponse:
    """`urls.stream`: server-sent events with Replicate's names (output, logs, error, done)."""
    if not internal.verify("stream", prediction_id, request.GET.get("sig", "")):
        raise NotFound(f"Prediction {prediction_id} not found.")
    return streams.prediction_events(prediction_id)


def stream_view(request: HttpRequest, prediction_id: str) -> Any:
    try:
        return prediction_stream(request, prediction_id)
    except NotFound as e:
        from registry.api.errors import problem_response

        return problem_response(404, e.detail)
