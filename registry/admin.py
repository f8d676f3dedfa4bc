"""Django admin for the registry. Version schemas and sources are read-only: published
versions are immutable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

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


@admin.register(Version)
class VersionAdmin(admin.ModelAdmin[Version]):
    list_display = ["id", "model", "cog_version", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["id", "model__name", "model__owner__username"]
    list_select_related = ["model__owner"]
    raw_id_fields = ["model"]

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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["hint", "name", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["token_hash", "hint", "created_at", "last_used_at"]
    raw_id_fields = ["user"]
