"""Publishing endpoints (Vitrine's own, beside Replicate's): versions from a source
archive or a Cog URL, and the builds that make them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response

from registry import builds, selectors
from registry.api import streams
from registry.api.serializers import BuildSerializer, VersionPublishSerializer
from registry.api.views import ApiView


def publish(request: Request, owner: str, name: str) -> Response:
    model = selectors.model_get(owner=owner, name=name, user=request.user)
    data = VersionPublishSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    if data.validated_data.get("source"):
        build = builds.build_create_from_archive(
            actor=request.user, model=model, upload=data.validated_data["source"]
        )
    else:
        build = builds.build_create_from_urls(
            actor=request.user, model=model, urls=data.validated_data["urls"]
        )
    build = builds.build_get(build_id=build.pk, user=request.user)
    headers = {"Location": request.build_absolute_uri(f"/v1/builds/{build.pk}")}
    return Response(
        BuildSerializer(build, context={"request": request}).data,
        status=status.HTTP_202_ACCEPTED,
        headers=headers,
    )


class ModelBuildListView(ApiView):
    permission_classes = [permissions.IsAuthenticated]
    pagination_ordering = ("-created_at", "-id")

    @extend_schema(operation_id="models_builds_list", responses=BuildSerializer(many=True))
    def get(self, request: Request, owner: str, name: str) -> Response:
        model = selectors.model_get(owner=owner, name=name, user=request.user)
        found = selectors.build_list(model=model, user=request.user).select_related("model__owner")
        return self.paginate(found, BuildSerializer)


# One server-sent event of a build's stream: `data` is text for `logs`, JSON for the others.
BUILD_EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["logs", "error", "done"]},
        "id": {"type": "string"},
        "data": {"type": "string"},
    },
    "required": ["event", "id", "data"],
}


class BuildDetailView(ApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="builds_get", responses=BuildSerializer)
    def get(self, request: Request, build_id: str) -> Response:
        build = builds.build_get(build_id=build_id, user=request.user)
        return Response(BuildSerializer(build, context={"request": request}).data)


class BuildStreamView(ApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="builds_stream",
        responses={(200, "text/event-stream"): BUILD_EVENT_SCHEMA},
    )
    def get(self, request: Request, build_id: str) -> Any:
        builds.build_get(build_id=build_id, user=request.user)
        return streams.build_events(build_id)
