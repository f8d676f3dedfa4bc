"""Search over the API: `QUERY /v1/models` (what `replicate.models.search()` sends) and
`GET /v1/search` (Replicate's search answer, plus Vitrine's facets and filters).

Both call `registry.search.service.search_models`; this module only parses parameters
and shapes answers.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from registry.api.serializers import ModelSerializer
from registry.errors import InvalidInput
from registry.search.query import FACETS, MAX_QUERY_LENGTH, SORTS
from registry.search.service import SearchResult, search_collections, search_models

QUERY_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


# `QUERY /v1/models` -------------------------------------------------------------------


def query_models(request: Request) -> Response:
    """The body is the query, as plain text; pages are offsets in an opaque cursor.

    `next` and `previous` are absolute URLs to send the same QUERY (same body) to.
    """
    text = request.body.decode("utf-8", errors="replace")[:MAX_QUERY_LENGTH].strip()
    page_size = _int_param(request, "page_size", QUERY_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    offset = _decode_cursor(request.query_params.get("cursor"))
    result = search_models(
        user=request.user,
        text=text,
        limit=page_size,
        offset=offset,
        facets=False,
        full_models=True,
    )
    url = request.build_absolute_uri()
    next_url = None
    if result.has_more:
        next_url = replace_query_param(url, "cursor", _encode_cursor(offset + page_size))
    previous_url = None
    if offset > 0:
        before = max(0, offset - page_size)
        previous_url = (
            replace_query_param(url, "cursor", _encode_cursor(before))
            if before
            else remove_query_param(url, "cursor")
        )
    results = ModelSerializer(result.models, many=True, context={"request": request}).data
    return Response({"next": next_url, "previous": previous_url, "results": results})


def openapi_without_query(endpoints: list[Any]) -> list[Any]:
    """drf-spectacular pre-processing hook: OpenAPI 3.0 has no QUERY method, so the
    document leaves it out (the README describes it)."""
    return [endpoint for endpoint in endpoints if endpoint[2] != "QUERY"]


# Beyond any real catalog's last page; a forged cursor must not reach the query as 10**30.
MAX_CURSOR_OFFSET = 1_000_000


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o={offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw.startswith("o=") and 0 <= int(raw[2:]) <= MAX_CURSOR_OFFSET:
            return int(raw[2:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput.single("cursor", "Invalid cursor.")


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput.single(name, "Must be a whole number.") from None
    if not low <= value <= high:
        raise InvalidInput.single(name, f"Must be between {low} and {high}.")
    return value


# `GET /v1/search` ---------------------------------------------------------------------


class SearchParamsSerializer(serializers.Serializer[Any]):
    query = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_QUERY_LENGTH, default=""
    )
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=20
    )
    offset = serializers.IntegerField(required=False, min_value=0, max_value=10_000, default=0)
    sort = serializers.ChoiceField(choices=list(SORTS), required=False, default="relevance")
    owner = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    tag = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    collection = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    hardware = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    input = serializers.ListField(child=serializers.CharField(max_length=16), required=False)
    output = serializers.ListField(child=serializers.CharField(max_length=16), required=False)


class SearchMetadataSerializer(serializers.Serializer[Any]):
    score = serializers.FloatField()
    tags = serializers.ListField(child=serializers.CharField())
    input_kinds = serializers.ListField(child=serializers.CharField())
    output_kinds = serializers.ListField(child=serializers.CharField())
    generated_description = serializers.CharField(allow_null=True)


class SearchModelSerializer(serializers.Serializer[Any]):
    model = ModelSerializer()
    metadata = SearchMetadataSerializer()


class SearchCollectionSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    models = serializers.ListField(child=serializers.CharField())


class SearchPageSerializer(serializers.Serializer[Any]):
    href = serializers.CharField()
    name = serializers.CharField()


class FacetValueSerializer(serializers.Serializer[Any]):
    value = serializers.CharField()
    count = serializers.IntegerField()


class FacetsSerializer(serializers.Serializer[Any]):
    owner = FacetValueSerializer(many=True)
    tag = FacetValueSerializer(many=True)
    collection = FacetValueSerializer(many=True)
    hardware = FacetValueSerializer(many=True)
    input = FacetValueSerializer(many=True)
    output = FacetValueSerializer(many=True)


class SearchResponseSerializer(serializers.Serializer[Any]):
    query = serializers.CharField()
    models = SearchModelSerializer(many=True)
    collections = SearchCollectionSerializer(many=True)
    pages = SearchPageSerializer(many=True)
    total = serializers.IntegerField()
    facets = FacetsSerializer()
    facets_approximate = serializers.BooleanField(
        help_text="True when facet counts are estimates (queries matching 1000 models or more)."
    )
    filters = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    sort = serializers.CharField()
    next = serializers.URLField(allow_null=True)


class SearchView(APIView):
    @extend_schema(
        operation_id="search",
        summary="Search models and collections",
        parameters=[
            OpenApiParameter("query", str, description="Words, and filters like input:image."),
            OpenApiParameter("limit", int, description="Models per answer, 1 to 100 (20)."),
            OpenApiParameter("offset", int, description="Models to skip (Vitrine)."),
            OpenApiParameter("sort", str, enum=list(SORTS)),
            *(
                OpenApiParameter(facet, str, many=True, description="Repeatable filter.")
                for facet in FACETS
            ),
        ],
        responses=SearchResponseSerializer,
    )
    def get(self, request: Request) -> Response:
        params = SearchParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        filters = {facet: data[facet] for facet in FACETS if data.get(facet)}
        result = search_models(
            user=request.user,
            text=data["query"],
            filters=filters,
            sort=data["sort"],
            limit=data["limit"],
            offset=data["offset"],
            full_models=True,
        )
        collections = search_collections(text=result.text, user=request.user)
        return Response(_search_answer(request, data["query"], result, collections))


def _search_answer(
    request: Request,
    query: str,
    result: SearchResult,
    collections: list[Any],
) -> dict[str, Any]:
    context = {"request": request}
    models = []
    for model in result.models:
        document = getattr(model, "search_document", None)
        models.append(
            {
                "model": ModelSerializer(model, context=context).data,
                "metadata": {
                    "score": result.scores.get(model.pk, 0.0),
                    "tags": [tag.name for tag in model.tags.all()],
                    "input_kinds": list(document.input_kinds) if document else [],
                    "output_kinds": list(document.output_kinds) if document else [],
                    "generated_description": None,
                },
            }
        )
    next_url = None
    if result.has_more:
        next_url = replace_query_param(
            request.build_absolute_uri(), "offset", result.offset + len(result.models)
        )
    return {
        "query": query,
        "models": models,
        "collections": [
            {
                "name": collection.name,
                "slug": collection.slug,
                "description": collection.description,
                "models": names,
            }
            for collection, names in collections
        ],
        "pages": [],
        "total": result.total,
        "facets": {
            facet: [{"value": v.value, "count": v.count} for v in result.facets.get(facet, [])]
            for facet in FACETS
        },
        "facets_approximate": result.facets_approximate,
        "filters": {facet: list(values) for facet, values in result.filters.items()},
        "sort": result.sort,
        "next": next_url,
    }
