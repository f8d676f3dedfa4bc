"""Writes to the registry: keyword-only, typed, atomic, named `<entity>_<action>`."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from registry import search, selectors
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.models import (
    ApiToken,
    Example,
    Hardware,
    Membership,
    MLModel,
    Owner,
    Prediction,
    Tag,
    Version,
    hash_token,
)
from registry.selectors import Actor
from registry.validators import validate_model_name, validate_owner_name

MODEL_EDITABLE_FIELDS = (
    "description",
    "readme",
    "github_url",
    "paper_url",
    "license_url",
    "weights_url",
    "cover_image_url",
    "visibility",
    "hardware",
    "tags",
    "featured",
)
URL_FIELDS = ("github_url", "paper_url", "license_url", "weights_url", "cover_image_url")


def _messages(error: ValidationError) -> list[str]:
    return [str(m) for m in error.messages]


# Owners and users ---------------------------------------------------------------------


def owner_ensure_for_user(*, user: User) -> Owner:
    """The user's own namespace, created on first need (users made in the admin too)."""
    owner = Owner.objects.filter(user=user).first()
    if owner is not None:
        return owner
    username = user.get_username()
    full_name = user.get_full_name()
    owner, _ = Owner.objects.get_or_create(
        user=user,
        defaults={"username": username, "kind": Owner.Kind.USER, "display_name": full_name},
    )
    return owner


def _check_new_owner_name(username: str) -> None:
    """Users and organizations share one namespace of URL-safe names."""
    try:
        validate_owner_name(username)
    except ValidationError as e:
        raise InvalidInput({"username": _messages(e)}) from e
    if Owner.objects.filter(username=username).exists():
        raise Conflict(f"The name {username!r} is already taken.")


@transaction.atomic
def user_create(
    *, username: str, password: str | None = None, email: str = "", is_staff: bool = False
) -> User:
    _check_new_owner_name(username)
    user = User.objects.create_user(
        username=username, email=email, password=password, is_staff=is_staff
    )
    owner_ensure_for_user(user=user)
    return user


@transaction.atomic
def organization_create(*, username: str, creator: User, display_name: str = "") -> Owner:
    _check_new_owner_name(username)
    organization = Owner.objects.create(
        username=username, kind=Owner.Kind.ORGANIZATION, display_name=display_name
    )
    Membership.objects.create(organization=organization, user=creator, role=Membership.Role.ADMIN)
    return organization


def membership_add(*, organization: Owner, user: User, role: str = "member") -> None:
    if not organization.is_organization:
        raise InvalidInput.single("organization", f"{organization} is not an organization.")
    Membership.objects.get_or_create(organization=organization, user=user, defaults={"role": role})


# Hardware -----------------------------------------------------------------------------

DEFAULT_HARDWARE = (
    ("cpu", "CPU", False),
    ("gpu-t4", "Nvidia T4 GPU", True),
    ("gpu-l40s", "Nvidia L40S GPU", True),
    ("gpu-a100-large", "Nvidia A100 (80GB) GPU", True),
    ("gpu-h100", "Nvidia H100 GPU", True),
)


def hardware_ensure_defaults() -> None:
    """The SKUs a fresh install offers (also seeded by migration 0002)."""
    for position, (sku, name, is_gpu) in enumerate(DEFAULT_HARDWARE):
        Hardware.objects.get_or_create(
            sku=sku, defaults={"name": name, "is_gpu": is_gpu, "position": position * 10}
        )


# Models -------------------------------------------------------------------------------


def _hardware(sku: str) -> Hardware:
    hardware = Hardware.objects.filter(sku=sku).first()
    if hardware is None:
        known = ", ".join(Hardware.objects.values_list("sku", flat=True))
        raise InvalidInput.single("hardware", f"Unknown hardware {sku!r}. Choose one of: {known}.")
    return hardware


def tags_set(*, model: MLModel, names: Iterable[str]) -> None:
    model.tags.set(_tags(names))
    search.index_model(model.pk)


def _tags(names: Iterable[str]) -> list[Tag]:
    tags = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        tag, _ = Tag.objects.get_or_create(name=name)
        tags.append(tag)
    return tags


def _writable_owner(actor: Actor, username: str) -> Owner:
    owner = Owner.objects.filter(username=username).first()
    if owner is None:
        raise InvalidInput.single("owner", f"Owner {username!r} does not exist.")
    if not selectors.can_write_owner(actor, owner):
        raise PermissionDenied(f"You are not allowed to create models owned by {username!r}.")
    return owner


def _validate_model_fields(fields: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    visibility = fields.get("visibility")
    if visibility is not None and visibility not in MLModel.Visibility.values:
        errors["visibility"] = ["Must be 'public' or 'private'."]
    for field in URL_FIELDS:
        value = fields.get(field)
        if value:
            model_field = MLModel._meta.get_field(field)
            assert isinstance(model_field, models.Field)
            try:
                model_field.run_validators(value)
            except ValidationError as e:
                errors[field] = _messages(e)
    return errors


@transaction.atomic
def model_create(
    *,
    actor: Actor,
    owner: str,
    name: str,
    visibility: str = "public",
    hardware: str = "cpu",
    description: str = "",
    readme: str = "",
    github_url: str = "",
    paper_url: str = "",
    license_url: str = "",
    weights_url: str = "",
    cover_image_url: str = "",
    tags: Iterable[str] = (),
    featured: bool = False,
) -> MLModel:
    errors = _validate_model_fields(locals())
    try:
        validate_model_name(name)
    except ValidationError as e:
        errors["name"] = _messages(e)
    if errors:
        raise InvalidInput(errors)
    owner_obj = _writable_owner(actor, owner)
    hardware_obj = _hardware(hardware)
    if MLModel.objects.filter(owner=owner_obj, name=name).exists():
        raise Conflict(f"A model named {owner}/{name} already exists.")
    try:
        with transaction.atomic():
            model = MLModel.objects.create(
                owner=owner_obj,
                name=name,
                visibility=visibility,
                hardware=hardware_obj,
                description=description or "",
                readme=readme or "",
                github_url=github_url or "",
                paper_url=paper_url or "",
                license_url=license_url or "",
                weights_url=weights_url or "",
                cover_image_url=cover_image_url or "",
                featured=featured,
            )
    except IntegrityError as e:  # a concurrent create of the same name
        raise Conflict(f"A model named {owner}/{name} already exists.") from e
    model.tags.set(_tags(tags))
    search.index_model(model.pk)
    return model


def model_check_writable(actor: Actor, model: MLModel, doing: str = "change") -> None:
    """Only the owner's members change a model: 403 for those who see it (a public model;
    staff), the same 404 as a missing model for everyone else."""
    if not selectors.can_write_owner(actor, model.owner):
        if selectors.can_read_model(actor, model):
            raise PermissionDenied(f"You are not allowed to {doing} {model.full_name}.")
        raise NotFound(f"Model {model.full_name} not found.")


@transaction.atomic
def model_update(*, actor: Actor, model: MLModel, **changes: Any) -> MLModel:
    model_check_writable(actor, model)
    unknown = sorted(set(changes) - set(MODEL_EDITABLE_FIELDS))
    if unknown:
        raise InvalidInput({field: ["This field cannot be changed."] for field in unknown})
    errors = _validate_model_fields(changes)
    if errors:
        raise InvalidInput(errors)
    if "hardware" in changes:
        model.hardware = _hardware(changes.pop("hardware"))
    tags = changes.pop("tags", None)
    for field, value in changes.items():
        setattr(model, field, value if value is not None else "")
    model.save()
    if tags is not None:
        model.tags.set(_tags(tags))
    search.index_model(model.pk)
    return model


@transaction.atomic
def model_delete(*, actor: Actor, model: MLModel) -> None:
    model_check_writable(actor, model)
    if model.versions.exists():
        # As on Replicate: delete the versions first, so nothing runnable vanishes by accident.
        raise Conflict(
            f"{model.full_name} still has versions. Delete its versions before the model."
        )
    model.delete()


def model_refresh_latest_version(*, model: MLModel) -> None:
    latest = model.versions.order_by("-created_at", "-id").first()
    model.latest_version = latest
    model.latest_version_created_at = latest.created_at if latest else model.created_at
    model.save(update_fields=["latest_version", "latest_version_created_at", "updated_at"])
    search.index_model(model.pk)  # the latest version decides what the model takes and returns


def model_increment_run_count(*, model_id: int) -> None:
    """Count one run on the model and for search, in one statement where the database
    allows (see `search.record_run`): the last thing a run's transaction does."""
    search.record_run(model_id, with_model=True)


# Versions -----------------------------------------------------------------------------


@transaction.atomic
def version_delete(*, actor: Actor, version: Version) -> None:
    model = version.model
    model_check_writable(actor, model)
    version.delete()
    model_refresh_latest_version(model=model)


# Examples -----------------------------------------------------------------------------


@transaction.atomic
def example_add(
    *, actor: Actor, model: MLModel, prediction: Prediction, make_default: bool = False
) -> Example:
    model_check_writable(actor, model)
    if prediction.model_id != model.pk:
        raise InvalidInput.single("prediction", "The prediction belongs to another model.")
    if prediction.status != Prediction.Status.SUCCEEDED:
        raise InvalidInput.single("prediction", "Only a succeeded prediction can be an example.")
    position = model.examples.count()
    example, _ = Example.objects.get_or_create(
        model=model, prediction=prediction, defaults={"position": position}
    )
    if not prediction.shared:
        prediction.shared = True
        prediction.save(update_fields=["shared"])
    from registry.predictions import share_input_files

    share_input_files(prediction)
    if make_default or model.default_example_id is None:
        model.default_example = prediction
        model.save(update_fields=["default_example", "updated_at"])
    return example


@transaction.atomic
def example_remove(*, actor: Actor, model: MLModel, prediction: Prediction) -> None:
    model_check_writable(actor, model)
    Example.objects.filter(model=model, prediction=prediction).delete()
    if model.default_example_id == prediction.pk:
        first = model.examples.order_by("position", "id").first()
        model.default_example_id = first.prediction_id if first else None
        model.save(update_fields=["default_example", "updated_at"])


# Tokens -------------------------------------------------------------------------------


def token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token; the plaintext is returned once and only its hash is kept."""
    plaintext = ApiToken.PREFIX + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(
        user=user, name=name[:100], token_hash=hash_token(plaintext), hint=plaintext[:8]
    )
    return token, plaintext


def token_revoke(*, user: User, token_id: int) -> None:
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise NotFound("Token not found.")


def token_authenticate(*, plaintext: str) -> ApiToken | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(plaintext), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    # Record use at most once a minute: a write per API call would cost more than the call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
