"""Thin API views: parse, call a selector or service, serialize."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registry import selectors, services
from registry.api import search as search_api
from registry.api.pagination import VitrineCursorPagination
from registry.api.schema import problems
from registry.api.serializers import (
    AccountSerializer,
    BuildSerializer,
    CollectionDetailSerializer,
    CollectionSerializer,
    HardwareSerializer,
    ModelCreateSerializer,
    ModelSerializer,
    ModelUpdateSerializer,
    PredictionSerializer,
    VersionPublishSerializer,
    VersionSerializer,
    WebhookSecretSerializer,
    version_json,
)
from registry.errors import InvalidInput, NotFound
from registry.models import MLModel, Tag

# Bumped when the JSON of a version changes shape, so that cached ETags go stale.
VERSION_REPRESENTATION = "1"


class ApiView(APIView):
    pagination_class: type[VitrineCursorPagination] | None = VitrineCursorPagination

    def paginate(self, queryset: QuerySet[Any], serializer_class: type[Any]) -> Response:
        paginator = (self.pagination_class or VitrineCursorPagination)()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer_class(page, many=True, context={"request": self.request}).data
        return paginator.get_paginated_response(data)


def signed_in(request: Request) -> User:
    """The authenticated user of a view guarded by IsAuthenticated."""
    user = request.user
    assert isinstance(user, User)
    return user


def with_tags(models: QuerySet[MLModel]) -> QuerySet[MLModel]:
    return models.prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))


def _choice(request: Request, name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(name, default)
    if value not in choices:
        raise InvalidInput.single(name, f"Must be one of: {', '.join(choices)}.")
    return value


class ModelListView(ApiView):
    # QUERY is what `replicate.models.search()` sends (registry.api.search).
    http_method_names = ["get", "post", "query", "head", "options"]

    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.request.method == "POST":
            return [permissions.IsAuthenticated()]
        return []

    @extend_schema(
        operation_id="models_list",
        parameters=[
            OpenApiParameter("sort_by", str, enum=list(selectors.MODEL_SORT_FIELDS)),
            OpenApiParameter("sort_direction", str, enum=["asc", "desc"]),
            OpenApiParameter("cursor", str),
        ],
        responses=ModelSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        sort_by = _choice(
            request, "sort_by", tuple(selectors.MODEL_SORT_FIELDS), "latest_version_created_at"
        )
        direction = _choice(request, "sort_direction", ("asc", "desc"), "desc")
        models = selectors.model_list(
            user=request.user,
            sort_by=sort_by,
            direction="asc" if direction == "asc" else "desc",
        )
        self.pagination_ordering = models.query.order_by
        return self.paginate(with_tags(models), ModelSerializer)

    def query(self, request: Request) -> Response:
        return search_api.query_models(request)

    @extend_schema(
        operation_id="models_create",
        request=ModelCreateSerializer,
        responses={201: ModelSerializer},
    )
    @problems(403, 409)
    def post(self, request: Request) -> Response:
        data = ModelCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        model = services.model_create(actor=request.user, **data.validated_data)
        model = selectors.model_get(owner=model.owner.username, name=model.name, user=request.user)
        return Response(
            ModelSerializer(model, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ModelDetailView(ApiView):
    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.request.method in ("PATCH", "DELETE"):
            return [permissions.IsAuthenticated()]
        return []

    @extend_schema(operation_id="models_get", responses=ModelSerializer)
    def get(self, request: Request, owner: str, name: str) -> Response:
        model = selectors.model_get(owner=owner, name=name, user=request.user)
        return Response(ModelSerializer(model, context={"request": request}).data)

    @extend_schema(
        operation_id="models_update", request=ModelUpdateSerializer, responses=ModelSerializer
    )
    @problems(403)
    def patch(self, request: Request, owner: str, name: str) -> Response:
        model = selectors.model_get(owner=owner, name=name, user=request.user)
        data = ModelUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.model_update(actor=request.user, model=model, **data.validated_data)
        model = selectors.model_get(owner=owner, name=name, user=request.user)
        return Response(ModelSerializer(model, context={"request": request}).data)

    @extend_schema(operation_id="models_delete", responses={204: None})
    @problems(403, 409)
    def delete(self, request: Request, owner: str, name: str) -> Response:
        model = selectors.model_get(owner=owner, name=name, user=request.user)
        services.model_delete(actor=request.user, model=model)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ModelReadmeView(ApiView):
    @extend_schema(
        operation_id="models_readme_get",
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    def get(self, request: Request, owner: str, name: str) -> HttpResponse:
        model = selectors.model_get(owner=owner, name=name, user=request.user)
        if not model.readme:
            raise NotFound(f"{model.full_name} has no README.")
        return HttpResponse(model.readme, content_type="text/plain; charset=utf-8")


class ModelExamplesView(ApiView):
    @extend_schema(operation_id="models_examples_list", responses=PredictionSerializer(many=True))
    def get(self, request: Request, owner: str, name: str) -> Response:
        model = selectors.model_get(owner=owner, name=name, user=request.user)
        return self.paginate(selectors.example_list(model=model), PredictionSerializer)


class VersionListView(ApiView):
    pagination_ordering = ("-created_at", "-id")

    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.request.method == "POST":
            return [permissions.IsAuthenticated()]
        return []

    @extend_schema(operation_id="models_versions_list", responses=VersionSerializer(many=True))
    def get(self, request: Request, owner: str, name: str) -> Response:
        model = selectors.model_get(owner=owner, name=name, user=request.user)
        return self.paginate(selectors.version_list(model=model), VersionSerializer)

    @extend_schema(
        operation_id="models_versions_create",
        request={
            "multipart/form-data": VersionPublishSerializer,
            "application/json": VersionPublishSerializer,
        },
        responses={202: BuildSerializer},
    )
    @problems(403)
    def post(self, request: Request, owner: str, name: str) -> Response:
        from registry.api.builds import publish

        return publish(request, owner, name)


class VersionDetailView(ApiView):
    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.request.method == "DELETE":
            return [permissions.IsAuthenticated()]
        return []

    @extend_schema(
        operation_id="models_versions_get",
        parameters=[OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER)],
        responses={200: VersionSerializer, 304: None},
    )
    def get(self, request: Request, owner: str, name: str, version_id: str) -> HttpResponse:
        # A published version never changes, so its id is a strong validator: known
        # from the URL, checked (the version exists and may be seen) by the one query.
        etag = f'"{version_id}.{VERSION_REPRESENTATION}"'
        headers = {"ETag": etag, "Cache-Control": "private, max-age=0, must-revalidate"}
        matched = etag in _etags(request.META.get("HTTP_IF_NONE_MATCH", ""))
        version = selectors.version_document_get(
            owner=owner, name=name, version_id=version_id, user=request.user,
            with_schema=not matched,
        )  # fmt: skip
        if matched:
            return HttpResponse(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return HttpResponse(version_json(version), content_type="application/json", headers=headers)

    @extend_schema(operation_id="models_versions_delete", responses={204: None})
    @problems(403)
    def delete(self, request: Request, owner: str, name: str, version_id: str) -> Response:
        version = selectors.version_get(
            owner=owner, name=name, version_id=version_id, user=request.user
        )
        services.version_delete(actor=request.user, version=version)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


class CollectionListView(ApiView):
    pagination_ordering = ("position", "slug")

    @extend_schema(operation_id="collections_list", responses=CollectionSerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.paginate(selectors.collection_list(), CollectionSerializer)


class CollectionDetailView(ApiView):
    @extend_schema(operation_id="collections_get", responses=CollectionDetailSerializer)
    def get(self, request: Request, slug: str) -> Response:
        collection = selectors.collection_get(slug=slug)
        models = with_tags(selectors.collection_models(collection=collection, user=request.user))
        context = {"request": request, "models": models}
        return Response(CollectionDetailSerializer(collection, context=context).data)


class HardwareListView(ApiView):
    pagination_class = None  # a short list, whole

    @extend_schema(operation_id="hardware_list", responses=HardwareSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(HardwareSerializer(selectors.hardware_list(), many=True).data)


class AccountView(ApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="account_get", responses=AccountSerializer)
    def get(self, request: Request) -> Response:
        owner = services.owner_ensure_for_user(user=signed_in(request))
        return Response(AccountSerializer(owner).data)


class WebhookSecretView(ApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="webhooks_default_secret_get", responses=WebhookSecretSerializer)
    def get(self, request: Request) -> Response:
        owner = services.owner_ensure_for_user(user=signed_in(request))
        return Response({"key": owner.webhook_secret})
