"""Reads of the registry, with visibility rules and joins applied.

Every read that may touch a private model goes through `visible_models` or
`model_get`: a private model is invisible (NotFound, never Forbidden) to everyone but
its owner's members and staff. Staff see everything (to operate the site) but change
only what they own, like anyone else; the admin is where they change the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Q, QuerySet

from registry import lookup_cache
from registry.errors import NotFound
from registry.models import (
    ApiToken,
    Build,
    Collection,
    Example,
    File,
    Hardware,
    MLModel,
    Owner,
    Prediction,
    SearchDocument,
    Version,
)

Actor = User | AnonymousUser | None

MODEL_SORT_FIELDS = {
    "latest_version_created_at": "latest_version_created_at",
    "model_created_at": "created_at",
    "run_count": "run_count",
}


def signed_in(user: Actor) -> User | None:
    """The user if they are signed in, else None."""
    return user if isinstance(user, User) and user.is_authenticated else None


def sees_everything(actor: Actor) -> bool:
    """Staff read every model, version, build, prediction and file (never write them)."""
    user = signed_in(actor)
    return user is not None and user.is_active and user.is_staff


def writable_owners(actor: Actor) -> QuerySet[Owner]:
    """Owners the user may act for: their own account and organizations they belong to."""
    user = signed_in(actor)
    if user is None:
        return Owner.objects.none()
    return Owner.objects.filter(Q(user=user) | Q(memberships__user=user)).distinct()


def can_write_owner(actor: Actor, owner: Owner) -> bool:
    user = signed_in(actor)
    if user is None:
        return False
    if owner.user_id is not None:
        return bool(owner.user_id == user.pk)
    return owner.memberships.filter(user=user).exists()


def can_read_model(user: Actor, model: MLModel) -> bool:
    return model.is_public or sees_everything(user) or can_write_owner(user, model.owner)


def can_read_builds(user: Actor, model: MLModel) -> bool:
    """Builds (their logs, sources, errors) are for those who may publish, and staff."""
    return sees_everything(user) or can_write_owner(user, model.owner)


def visible_models(user: Actor) -> QuerySet[MLModel]:
    models = MLModel.objects.all()
    if signed_in(user) is None:
        return models.filter(visibility=MLModel.Visibility.PUBLIC)
    if sees_everything(user):
        return models
    own = writable_owners(user).values("id")
    return models.filter(Q(visibility=MLModel.Visibility.PUBLIC) | Q(owner_id__in=own))


def _with_card_joins(models: QuerySet[MLModel]) -> QuerySet[MLModel]:
    return models.select_related("owner", "hardware", "latest_version", "default_example")


def model_list(
    *,
    user: Actor,
    sort_by: str = "latest_version_created_at",
    direction: Literal["asc", "desc"] = "desc",
) -> QuerySet[MLModel]:
    field = MODEL_SORT_FIELDS[sort_by]
    prefix = "-" if direction == "desc" else ""
    return _with_card_joins(visible_models(user)).order_by(f"{prefix}{field}", f"{prefix}id")


def model_get(*, owner: str, name: str, user: Actor) -> MLModel:
    model = _with_card_joins(MLModel.objects.all()).filter(owner__username=owner, name=name).first()
    if model is None or not can_read_model(user, model):
        raise NotFound(f"Model {owner}/{name} not found.")
    return model


def version_list(*, model: MLModel) -> QuerySet[Version]:
    return model.versions.order_by("-created_at", "-id")


def version_get(*, owner: str, name: str, version_id: str, user: Actor) -> Version:
    """The schema lookup every client does: one query for public models."""
    version = (
        Version.objects.select_related("model__owner")
        .filter(model__owner__username=owner, model__name=name, id=version_id)
        .first()
    )
    if version is None:
        # Say the same whether the model is missing, private or only the version is.
        raise NotFound(f"Version {version_id} of {owner}/{name} not found.")
    if not can_read_model(user, version.model):
        raise NotFound(f"Version {version_id} of {owner}/{name} not found.")
    return version


@dataclass(frozen=True)
class VersionDocument:
    """What a schema lookup answers: a version's fields, its schema as stored JSON text."""

    id: str
    created_at: datetime
    cog_version: str
    schema_json: str  # "" when not asked for (an If-None-Match that matched)


# The hottest read of the API, in SQL written once: building this query with the ORM costs
# twice what PostgreSQL takes to plan and run it (bench/bench_api.py, schema lookup).
_VERSION_DOCUMENT_SQL = (
    "SELECT v.created_at, v.cog_version, m.visibility{schema} FROM {version} v "
    "JOIN {model} m ON m.id = v.model_id JOIN {owner} o ON o.id = m.owner_id "
    "WHERE o.username = %s AND m.name = %s AND v.id = %s"
)


def version_document_get(
    *, owner: str, name: str, version_id: str, user: Actor, with_schema: bool = True
) -> VersionDocument:
    """The schema lookup every client does, as lean as it gets: public models' documents
    from memory when `registry.lookup_cache` may answer (no query at all), else one query,
    no model instances, and the schema as the database's JSON text, so that it is neither
    parsed nor serialized again. Private models take `version_get`'s path (and its rules).
    A cached document holds its schema even when `with_schema` is false."""
    key = (owner, name, version_id)
    ticket = lookup_cache.cache.ticket()
    if ticket is not None and (cached := lookup_cache.cache.get(key)) is not None:
        return cached
    sql = _VERSION_DOCUMENT_SQL.format(
        schema=", CAST(v.openapi_schema AS text)" if with_schema else "",
        version=Version._meta.db_table,
        model=MLModel._meta.db_table,
        owner=Owner._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [owner, name, version_id])
        row = cursor.fetchone()
    if row is None:
        raise NotFound(f"Version {version_id} of {owner}/{name} not found.")
    public = row[2] == MLModel.Visibility.PUBLIC
    if not public:
        version_get(owner=owner, name=name, version_id=version_id, user=user)  # or NotFound
    document = VersionDocument(
        id=version_id,
        created_at=_aware(row[0]),
        cog_version=row[1],
        schema_json=row[3] if with_schema else "",
    )
    if public and with_schema and ticket is not None:
        lookup_cache.cache.put(key, document, ticket)
    return document


def _aware(value: datetime | str) -> datetime:
    """A timestamp read by raw SQL: SQLite gives naive UTC text."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# What a model card shows (templates/catalog/partials/model_card.html): the model's own
# columns (any other is loaded by a query of its own if read), its owner's name, and the
# kinds of its search row.
CARD_COLUMNS = (
    "id",
    "owner_id",
    "name",
    "description",
    "visibility",
    "cover_image",
    "cover_image_url",
    "run_count",
    "latest_version_created_at",
)


def model_cards(ids: Sequence[int], *, user: Actor) -> list[MLModel]:
    """These models as cards show them, in this order, those `user` may not see left out.
    Read as rows of `visible_models`, not as a queryset of instances with their joins:
    building and compiling that took longer than running it, on every search (3.8 ms for
    20 cards at 100k models; this, about 3 ms)."""
    if not ids:
        return []
    rows = (
        visible_models(user)
        .filter(pk__in=ids)
        .values_list(
            *CARD_COLUMNS,
            "owner__username",
            "search_document__input_kinds",
            "search_document__output_kinds",
        )
    )
    cards: dict[int, MLModel] = {}
    for row in rows:
        model = MLModel.from_db(rows.db, list(CARD_COLUMNS), list(row[: len(CARD_COLUMNS)]))
        username, inputs, outputs = row[len(CARD_COLUMNS) :]
        owner = Owner.from_db(rows.db, ["id", "username"], [model.owner_id, username])
        MLModel.owner.field.set_cached_value(model, owner)
        document = None
        if inputs is not None:
            document = SearchDocument.from_db(
                rows.db, ["model_id", "input_kinds", "output_kinds"], [model.pk, inputs, outputs]
            )
        MLModel.search_document.related.set_cached_value(model, document)
        cards[model.pk] = model
    return [cards[pk] for pk in ids if pk in cards]


def example_list(*, model: MLModel) -> QuerySet[Prediction]:
    ids = Example.objects.filter(model=model).values("prediction_id")
    return (
        Prediction.objects.filter(id__in=ids)
        .select_related("model__owner")
        .order_by("-created_at", "-id")
    )


def collection_list() -> QuerySet[Collection]:
    return Collection.objects.order_by("position", "slug")


def collection_get(*, slug: str) -> Collection:
    collection = Collection.objects.filter(slug=slug).first()
    if collection is None:
        raise NotFound(f"Collection {slug} not found.")
    return collection


def collection_models(*, collection: Collection, user: Actor) -> QuerySet[MLModel]:
    return (
        _with_card_joins(visible_models(user))
        .filter(collection_items__collection=collection)
        .order_by("collection_items__position", "id")
    )


def hardware_list() -> QuerySet[Hardware]:
    return Hardware.objects.order_by("position", "sku")


def owner_get(*, username: str) -> Owner:
    owner = Owner.objects.filter(username=username).first()
    if owner is None:
        raise NotFound(f"Owner {username} not found.")
    return owner


def account_for(user: User) -> Owner:
    owner = Owner.objects.filter(user=user).first()
    if owner is None:
        raise NotFound("This account has no owner namespace.")
    return owner


def token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")


def build_list(*, model: MLModel, user: Actor) -> QuerySet[Build]:
    """A model's builds, newest first, for those who may publish to it and staff (none for
    others)."""
    if not can_read_builds(user, model):
        return Build.objects.none()
    return (
        Build.objects.filter(model=model)
        .select_related("version", "created_by")
        .order_by("-created_at", "-id")
    )


def build_in_progress(*, model: MLModel) -> Build | None:
    """The build under way for a model, if any: its status and age are public (a model page
    says a version is coming), its logs only to those who may publish."""
    return (
        Build.objects.filter(
            model=model, status__in=(Build.Status.STARTING, Build.Status.PROCESSING)
        )
        .order_by("-created_at")
        .only("id", "status", "created_at", "started_at", "model_id")
        .first()
    )


def files_by_id(ids: Iterable[str]) -> dict[str, File]:
    """Uploaded files with their owners, by id (to name and link a prediction's inputs)."""
    wanted = list(ids)
    if not wanted:
        return {}
    return {f.pk: f for f in File.objects.filter(pk__in=wanted).select_related("owner")}
