"""factory_boy factories for the registry's data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import factory
from django.contrib.auth import get_user_model

from registry.models import (
    Collection,
    CollectionItem,
    Membership,
    MLModel,
    Owner,
    Prediction,
    Version,
)

SCHEMAS = Path(__file__).parent / "fixtures" / "schemas"


def cog_schema(name: str = "hello") -> dict[str, Any]:
    """A real Cog OpenAPI document from tests/fixtures/schemas."""
    return json.loads((SCHEMAS / f"{name}.json").read_text())


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass-word-123")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Owner

    username = factory.Sequence(lambda n: f"org{n}")
    kind = Owner.Kind.ORGANIZATION
    display_name = factory.LazyAttribute(lambda o: o.username.title())


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)


class ModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MLModel
        skip_postgeneration_save = True

    owner = factory.LazyFunction(lambda: UserFactory().owner)
    name = factory.Sequence(lambda n: f"model-{n}")
    description = factory.LazyAttribute(lambda m: f"The {m.name} model")
    visibility = MLModel.Visibility.PUBLIC
    hardware_id = "cpu"

    @factory.post_generation
    def search_index(obj: MLModel, create: bool, extracted: Any, **kwargs: Any) -> None:
        # As services do after every write: a model made here is findable at once.
        if create:
            from registry import search

            search.index_model(obj.pk)


def _version_id(n: int) -> str:
    return hashlib.sha256(f"version-{n}".encode()).hexdigest()


class VersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Version

    id = factory.Sequence(_version_id)
    model = factory.SubFactory(ModelFactory)
    cog_version = "0.23.1"
    openapi_schema = factory.LazyFunction(cog_schema)

    @classmethod
    def _create(cls, model_class: type[Version], *args: Any, **kwargs: Any) -> Version:
        from registry.services import model_refresh_latest_version

        version = super()._create(model_class, *args, **kwargs)
        model_refresh_latest_version(model=version.model)
        return version


class PredictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prediction

    version = factory.SubFactory(VersionFactory)
    model = factory.LazyAttribute(lambda p: p.version.model)
    version_ref = factory.LazyAttribute(lambda p: p.version.id)
    status = Prediction.Status.SUCCEEDED
    input = factory.LazyFunction(lambda: {"text": "Alice"})
    output = "hello Alice"
    metrics = factory.LazyFunction(lambda: {"predict_time": 0.01})


class CollectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collection

    slug = factory.Sequence(lambda n: f"collection-{n}")
    name = factory.LazyAttribute(lambda c: c.slug.replace("-", " ").title())
    description = factory.LazyAttribute(lambda c: f"Models about {c.name}")


def add_to_collection(collection: Collection, *models: MLModel) -> None:
    for position, model in enumerate(models):
        CollectionItem.objects.create(collection=collection, model=model, position=position)
