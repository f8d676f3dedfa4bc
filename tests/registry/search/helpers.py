"""Building small catalogs for search tests (the `make_model` fixture uses these)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from registry import search
from registry.models import MLModel, Owner, Tag
from registry.signatures import KINDS
from tests.factories import ModelFactory, OrganizationFactory, VersionFactory, cog_schema

URI = {"type": "string", "format": "uri"}


def schema_for(inputs: dict[str, Any], output: dict[str, Any]) -> dict[str, Any]:
    schema = cog_schema()
    schema["components"]["schemas"]["Input"]["properties"] = inputs
    schema["components"]["schemas"]["Input"]["required"] = []
    schema["components"]["schemas"]["Output"] = {"title": "Output", **output}
    return schema


SCHEMAS = {
    "text-to-text": schema_for({"prompt": {"type": "string"}}, {"type": "string"}),
    "image-to-text": schema_for(
        {"image": {**URI, "description": "Input image"}}, {"type": "string"}
    ),
    "audio-to-text": schema_for(
        {"audio": {**URI, "description": "Audio file to transcribe"}}, {"type": "string"}
    ),
    "text-to-image": schema_for({"prompt": {"type": "string"}}, {"type": "array", "items": URI}),
}
assert set(KINDS) >= {"text", "image", "audio"}


MakeModel = Callable[..., MLModel]


def model_maker() -> MakeModel:
    """A function making a public model with a version, tags and run counts, indexed."""
    owners: dict[str, Owner] = {}

    def make(
        full_name: str,
        description: str = "",
        *,
        tags: Iterable[str] = (),
        signature: str = "text-to-text",
        runs: int = 0,
        visibility: str = "public",
        readme: str = "",
        hardware: str = "cpu",
        age_days: float = 0,
    ) -> MLModel:
        owner_name, name = full_name.split("/")
        if owner_name not in owners:
            owners[owner_name] = Owner.objects.filter(
                username=owner_name
            ).first() or OrganizationFactory(username=owner_name)
        model = ModelFactory(
            owner=owners[owner_name],
            name=name,
            description=description,
            visibility=visibility,
            readme=readme,
            hardware_id=hardware,
            run_count=runs,
        )
        model.tags.set([Tag.objects.get_or_create(name=t)[0] for t in tags])
        VersionFactory(model=model, openapi_schema=SCHEMAS[signature])
        if age_days:
            when = timezone.now() - timedelta(days=age_days)
            MLModel.objects.filter(pk=model.pk).update(latest_version_created_at=when)
        search.index_model(model.pk)
        model.refresh_from_db()
        return model

    return make


def names(result: Any) -> list[str]:
    return [model.full_name for model in result.models]


def on_postgres() -> bool:
    return connection.vendor == "postgresql"
