"""Django admin for the registry. Version schemas and sources are read-only: published
versions are immutable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import BaseModelForm
from django.http import HttpRequest

from registry import search, services
from registry.models import (
    ApiToken,
    Collection,
    CollectionItem,
    Example,
    Hardware,
    Membership,
    MLModel,
    Owner,
    Prediction,
    Tag,
    Version,
)


class MembershipInline(admin.TabularInline[Membership, Owner]):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Owner)
class OwnerAdmin(admin.ModelAdmin[Owner]):
    list_display = ["username", "kind", "display_name", "created_at"]
    list_filter = ["kind"]
    search_fields = ["username", "display_name"]
    inlines = [MembershipInline]
    readonly_fields = ["webhook_secret"]
    raw_id_fields = ["user"]

    def save_model(self, request: HttpRequest, obj: Owner, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "username" in form.changed_data:  # search shows owner/name
            search.index_models(obj.models.values_list("pk", flat=True))


@admin.register(Hardware)
class HardwareAdmin(admin.ModelAdmin[Hardware]):
    list_display = ["sku", "name", "is_gpu", "position"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    search_fields = ["name"]


class ExampleInline(admin.TabularInline[Example, MLModel]):
    model = Example
    extra = 0
    raw_id_fields = ["prediction"]


@admin.register(MLModel)
class MLModelAdmin(admin.ModelAdmin[MLModel]):
    list_display = ["__str__", "visibility", "hardware", "run_count", "featured", "updated_at"]
    list_filter = ["visibility", "featured", "hardware"]
    search_fields = ["name", "owner__username", "description"]
    list_select_related = ["owner", "hardware"]
    raw_id_fields = ["owner", "latest_version", "default_example"]
    filter_horizontal = ["tags"]
    readonly_fields = ["run_count", "created_at", "updated_at", "latest_version_created_at"]
    inlines = [ExampleInline]

    def save_related(self, request: HttpRequest, form: BaseModelForm[MLModel], *args: Any) -> None:
        super().save_related(request, form, *args)  # tags are saved here, after the model
        search.index_model(form.instance.pk)


@admin.register(Version)
class VersionAdmin(admin.ModelAdmin[Version]):
    list_display = ["id", "model", "cog_version", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["id", "model__name", "model__owner__username"]
    list_select_related = ["model__owner"]
    raw_id_fields = ["model"]

    def save_model(self, request: HttpRequest, obj: Version, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.model_refresh_latest_version(model=obj.model)

    def delete_model(self, request: HttpRequest, obj: Version) -> None:
        model = obj.model
        super().delete_model(request, obj)
        services.model_refresh_latest_version(model=model)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Version]) -> None:
        models = {version.model for version in queryset.select_related("model")}
        super().delete_queryset(request, queryset)
        for model in models:
            services.model_refresh_latest_version(model=model)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return [
            "id",
            "model",
            "created_at",
            "cog_version",
            "openapi_schema",
            "source",
            "source_sha256",
            "image",
            "cog_config",
        ]


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin[Prediction]):
    list_display = ["id", "model", "status", "source", "created_by", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["id", "model__name"]
    list_select_related = ["model__owner", "created_by"]
    raw_id_fields = ["model", "version", "created_by"]


class CollectionItemInline(admin.TabularInline[CollectionItem, Collection]):
    model = CollectionItem
    extra = 0
    raw_id_fields = ["model"]


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin[Collection]):
    list_display = ["slug", "name", "owner", "position"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CollectionItemInline]

    # Search shows a model's collections: reindex the models that were in it and are now.
    def save_related(
        self, request: HttpRequest, form: BaseModelForm[Collection], *args: Any
    ) -> None:
        before = set(form.instance.items.values_list("model_id", flat=True))
        super().save_related(request, form, *args)
        search.index_models(before | set(form.instance.items.values_list("model_id", flat=True)))

    def delete_model(self, request: HttpRequest, obj: Collection) -> None:
        members = list(obj.items.values_list("model_id", flat=True))
        super().delete_model(request, obj)
        search.index_models(members)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Collection]) -> None:
        items = CollectionItem.objects.filter(collection__in=queryset)
        members = list(items.values_list("model_id", flat=True))
        super().delete_queryset(request, queryset)
        search.index_models(members)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["hint", "name", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["token_hash", "hint", "created_at", "last_used_at"]
    raw_id_fields = ["user"]
