"""Output and input serializers of the API, in Replicate's wire format.

Replicate's client (1.0.7) rejects nulls in some places (`cog_version`, values of
`urls`) and wants others present; `../shared/reference/replicate-api.md` §2 is the source
for every field here.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry import links
from registry.inference import internal
from registry.models import Build, Collection, File, Hardware, MLModel, Owner, Prediction, Version
from registry.selectors import VersionDocument


def iso(value: Any) -> str | None:
    """Timestamps as ISO 8601 with a `Z`, as Replicate writes them."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    text: str = value.isoformat()
    return text.replace("+00:00", "Z")


def none_if_blank(value: str | None) -> str | None:
    return value or None


@extend_schema_field(OpenApiTypes.DATETIME)
class TimestampField(serializers.Field):  # type: ignore[type-arg]
    def to_representation(self, value: Any) -> str | None:
        return iso(value)


def request_of(serializer: serializers.BaseSerializer[Any]) -> Any:
    return serializer.context.get("request")


class VersionSerializer(serializers.ModelSerializer[Version]):
    created_at = TimestampField()
    cog_version = serializers.CharField()
    openapi_schema = serializers.JSONField()

    class Meta:
        model = Version
        fields = ["id", "created_at", "cog_version", "openapi_schema"]


def version_json(version: VersionDocument) -> str:
    """`VersionSerializer`'s JSON for the schema lookup, the stored schema text spliced in
    as it is (no parse, no re-serialization: most of the answer is the schema)."""
    head = json.dumps(
        {
            "id": version.id,
            "created_at": iso(version.created_at),
            "cog_version": version.cog_version,
        }
    )
    return f'{head[:-1]}, "openapi_schema": {version.schema_json}}}'


class PredictionUrlsSerializer(serializers.Serializer[Any]):
    get = serializers.URLField()
    cancel = serializers.URLField()
    web = serializers.URLField()
    stream = serializers.URLField(required=False)


class PredictionSerializer(serializers.ModelSerializer[Prediction]):
    model = serializers.SerializerMethodField()
    version = serializers.CharField(source="version_ref")
    created_at = TimestampField()
    started_at = TimestampField(allow_null=True)
    completed_at = TimestampField(allow_null=True)
    urls = serializers.SerializerMethodField()
    input = serializers.JSONField()
    output = serializers.JSONField()
    metrics = serializers.JSONField()

    class Meta:
        model = Prediction
        fields = [
            "id",
            "model",
            "version",
            "input",
            "output",
            "logs",
            "error",
            "status",
            "source",
            "data_removed",
            "created_at",
            "started_at",
            "completed_at",
            "metrics",
            "urls",
        ]

    def get_model(self, prediction: Prediction) -> str:
        return prediction.model.full_name

    @extend_schema_field(PredictionUrlsSerializer)
    def get_urls(self, prediction: Prediction) -> dict[str, str]:
        request = request_of(self)
        api = links.prediction_api_path(prediction.id)
        urls = {
            "get": links.absolute(api, request),
            "cancel": links.absolute(f"{api}/cancel", request),
            "web": links.absolute(links.prediction_web_path(prediction.id), request),
        }
        if prediction.stream:
            # A capability URL, like Replicate's stream URLs: browsers' EventSource
            # cannot send a token.
            signature = internal.sign("stream", prediction.id)
            urls["stream"] = links.absolute(f"{api}/stream?sig={signature}", request)
        return urls


class ModelSerializer(serializers.ModelSerializer[MLModel]):
    url = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner.username")
    description = serializers.SerializerMethodField()
    github_url = serializers.SerializerMethodField()
    paper_url = serializers.SerializerMethodField()
    license_url = serializers.SerializerMethodField()
    weights_url = serializers.SerializerMethodField()
    cover_image_url = serializers.SerializerMethodField()
    hardware = serializers.CharField(source="hardware_id")
    tags = serializers.SerializerMethodField()
    default_example = serializers.SerializerMethodField()
    # A declared field, built once per answer (a serializer made per card in a method
    # field rebuilt its fields every time: most of GET /v1/models' time).
    latest_version = VersionSerializer(read_only=True, allow_null=True)
    is_official = serializers.SerializerMethodField()
    created_at = TimestampField()
    updated_at = TimestampField()

    class Meta:
        model = MLModel
        fields = [
            "url",
            "owner",
            "name",
            "description",
            "visibility",
            "github_url",
            "paper_url",
            "license_url",
            "weights_url",
            "run_count",
            "cover_image_url",
            "hardware",
            "tags",
            "featured",
            "default_example",
            "latest_version",
            "is_official",
            "created_at",
            "updated_at",
        ]

    def get_url(self, model: MLModel) -> str:
        return links.absolute(
            links.model_web_path(model.owner.username, model.name), request_of(self)
        )

    def get_description(self, model: MLModel) -> str | None:
        return none_if_blank(model.description)

    def get_github_url(self, model: MLModel) -> str | None:
        return none_if_blank(model.github_url)

    def get_paper_url(self, model: MLModel) -> str | None:
        return none_if_blank(model.paper_url)

    def get_license_url(self, model: MLModel) -> str | None:
        return none_if_blank(model.license_url)

    def get_weights_url(self, model: MLModel) -> str | None:
        return none_if_blank(model.weights_url)

    def get_cover_image_url(self, model: MLModel) -> str | None:
        if model.cover_image:
            url = model.cover_image.url
            return url if "://" in url else links.absolute(url, request_of(self))
        return none_if_blank(model.cover_image_url)

    def get_tags(self, model: MLModel) -> list[str]:
        # Prefetched by the list views; one query on a single model.
        return [tag.name for tag in model.tags.all()]

    @extend_schema_field(PredictionSerializer(allow_null=True))
    def get_default_example(self, model: MLModel) -> dict[str, Any] | None:
        example = model.default_example
        if example is None:
            return None
        example.model = model  # the same row: spare a query per card
        return PredictionSerializer(example, context=self.context).data

    def get_is_official(self, model: MLModel) -> bool:
        return False


def _optional_url() -> serializers.URLField:
    return serializers.URLField(required=False, allow_blank=True, allow_null=True, max_length=1000)


class ModelFieldsSerializer(serializers.Serializer[Any]):
    """The card fields a model is created with and that PATCH may change."""

    description = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    readme = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    github_url = _optional_url()
    paper_url = _optional_url()
    license_url = _optional_url()
    weights_url = _optional_url()
    cover_image_url = _optional_url()
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=50
    )


class ModelCreateSerializer(ModelFieldsSerializer):
    owner = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200)
    visibility = serializers.ChoiceField(choices=MLModel.Visibility.choices)
    hardware = serializers.CharField(max_length=64)


class ModelUpdateSerializer(ModelFieldsSerializer):
    visibility = serializers.ChoiceField(choices=MLModel.Visibility.choices, required=False)
    hardware = serializers.CharField(max_length=64, required=False)


class CollectionSerializer(serializers.ModelSerializer[Collection]):
    description = serializers.CharField()

    class Meta:
        model = Collection
        fields = ["name", "slug", "description"]


class CollectionDetailSerializer(CollectionSerializer):
    full_description = serializers.SerializerMethodField()
    models = serializers.SerializerMethodField()

    class Meta(CollectionSerializer.Meta):
        fields = [*CollectionSerializer.Meta.fields, "full_description", "models"]

    def get_full_description(self, collection: Collection) -> str | None:
        return none_if_blank(collection.full_description)

    @extend_schema_field(ModelSerializer(many=True))
    def get_models(self, collection: Collection) -> list[dict[str, Any]]:
        models = self.context["models"]
        return list(ModelSerializer(models, many=True, context=self.context).data)


class HardwareSerializer(serializers.ModelSerializer[Hardware]):
    class Meta:
        model = Hardware
        fields = ["sku", "name"]


class AccountSerializer(serializers.ModelSerializer[Owner]):
    type = serializers.CharField(source="kind")
    name = serializers.CharField()
    github_url = serializers.SerializerMethodField()
    avatar_url = serializers.SerializerMethodField()

    class Meta:
        model = Owner
        fields = ["type", "username", "name", "github_url", "avatar_url"]

    def get_github_url(self, owner: Owner) -> str | None:
        return none_if_blank(owner.github_url)

    def get_avatar_url(self, owner: Owner) -> str | None:
        return none_if_blank(owner.avatar_url)


class WebhookSecretSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()


class PredictionCreateSerializer(serializers.Serializer[Any]):
    version = serializers.CharField(required=False, max_length=300)
    input = serializers.JSONField(required=False)
    webhook = serializers.URLField(
        required=False, allow_null=True, allow_blank=True, max_length=2000
    )
    webhook_completed = serializers.URLField(
        required=False, allow_null=True, allow_blank=True, max_length=2000
    )
    webhook_events_filter = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, allow_null=True, max_length=4
    )
    stream = serializers.BooleanField(required=False, default=False)


class BuildSerializer(serializers.ModelSerializer[Build]):
    model = serializers.CharField(source="model.full_name")
    version = serializers.CharField(source="version_id", allow_null=True)
    created_at = TimestampField()
    started_at = TimestampField(allow_null=True)
    completed_at = TimestampField(allow_null=True)
    urls = serializers.SerializerMethodField()

    class Meta:
        model = Build
        fields = [
            "id",
            "model",
            "kind",
            "status",
            "logs",
            "error",
            "version",
            "created_at",
            "started_at",
            "completed_at",
            "metrics",
            "urls",
        ]

    def get_urls(self, build: Build) -> dict[str, str]:
        request = request_of(self)
        api = f"/v1/builds/{build.id}"
        urls = {
            "get": links.absolute(api, request),
            "stream": links.absolute(f"{api}/stream", request),
            "model": links.absolute(
                links.model_web_path(build.model.owner.username, build.model.name), request
            ),
        }
        if build.version_id:
            urls["version"] = links.absolute(
                f"/v1/models/{build.model.owner.username}/{build.model.name}/versions/{build.version_id}",
                request,
            )
        return urls


class VersionPublishSerializer(serializers.Serializer[Any]):
    """Either a `source` archive (multipart) or the URL(s) of running Cog servers (JSON)."""

    source = serializers.FileField(required=False)  # type: ignore[assignment]
    # Not URLField: its validator refuses dotless hosts, and Cog servers are often named
    # `http://hello-model:5000` (a Compose service, a Kubernetes short name). The build
    # service checks the scheme and host.
    cog_url = serializers.CharField(required=False, max_length=500)
    cog_urls = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, max_length=64
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        urls = list(attrs.get("cog_urls") or []) + (
            [attrs["cog_url"]] if attrs.get("cog_url") else []
        )
        if bool(attrs.get("source")) == bool(urls):
            raise serializers.ValidationError(
                {"source": ["Send either a .tar.gz project as `source` or `cog_url`."]}
            )
        attrs["urls"] = urls
        return attrs


class FileSerializer(serializers.ModelSerializer[File]):
    etag = serializers.CharField(source="md5")
    checksums = serializers.SerializerMethodField()
    created_at = TimestampField()
    expires_at = TimestampField(allow_null=True)
    urls = serializers.SerializerMethodField()

    class Meta:
        model = File
        fields = [
            "id",
            "name",
            "content_type",
            "size",
            "etag",
            "checksums",
            "metadata",
            "created_at",
            "expires_at",
            "urls",
        ]

    def get_checksums(self, file: File) -> dict[str, str]:
        return {"sha256": file.sha256, "md5": file.md5}

    def get_urls(self, file: File) -> dict[str, str]:
        return {"get": links.absolute(f"/v1/files/{file.id}", request_of(self))}


class FileCreateSerializer(serializers.Serializer[Any]):
    content = serializers.FileField()
    filename = serializers.CharField(required=False, max_length=255)
    type = serializers.CharField(required=False, max_length=255)
    metadata = serializers.CharField(required=False, allow_blank=True, max_length=65536)
