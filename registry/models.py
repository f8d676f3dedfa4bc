"""The registry's data: owners, models, versions, predictions, examples, collections, tokens."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Left, Length
from django.utils import timezone

from registry.validators import (
    MODEL_MAX_LENGTH,
    OWNER_MAX_LENGTH,
    validate_model_name,
    validate_owner_name,
)


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def new_prediction_id() -> str:
    # 26 characters of lowercase base32, the id shape Cog's docs recommend and Replicate uses.
    return base64.b32encode(uuid.uuid4().bytes).decode().rstrip("=").lower()


class Owner(models.Model):
    """A namespace for models: a user's own account or an organization with members."""

    class Kind(models.TextChoices):
        USER = "user"
        ORGANIZATION = "organization"

    username = models.CharField(
        max_length=OWNER_MAX_LENGTH, unique=True, validators=[validate_owner_name]
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.USER)
    display_name = models.CharField(max_length=200, blank=True)
    bio = models.TextField(blank=True)
    github_url = models.URLField(blank=True)
    avatar_url = models.URLField(blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="owner",
        help_text="The account this owner is, for users; empty for organizations.",
    )
    members: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Membership",
        related_name="organizations",
        blank=True,
    )
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="organization", user__isnull=True) | Q(kind="user"),
                name="owner_organization_has_no_user",
            )
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def is_organization(self) -> bool:
        return self.kind == self.Kind.ORGANIZATION


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin"
        MEMBER = "member"

    organization = models.ForeignKey(
        Owner,
        on_delete=models.CASCADE,
        related_name="memberships",
        limit_choices_to={"kind": Owner.Kind.ORGANIZATION},
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="unique_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization}"


class Hardware(models.Model):
    """A hardware SKU a model can ask for (`GET /v1/hardware`)."""

    sku = models.SlugField(primary_key=True, max_length=64)
    name = models.CharField(max_length=200)
    is_gpu = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "sku"]
        verbose_name_plural = "hardware"

    def __str__(self) -> str:
        return self.sku


class Tag(models.Model):
    name = models.SlugField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MLModel(models.Model):
    """A model: `owner/name`, its card, and its versions."""

    class Visibility(models.TextChoices):
        PUBLIC = "public"
        PRIVATE = "private"

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="models")
    name = models.CharField(max_length=MODEL_MAX_LENGTH, validators=[validate_model_name])
    description = models.TextField(blank=True)
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    readme = models.TextField(blank=True)
    cover_image = models.FileField(upload_to="covers/", blank=True)
    cover_image_url = models.URLField(
        max_length=1000,
        blank=True,
        help_text="An external cover image, used when none is uploaded.",
    )
    github_url = models.URLField(max_length=1000, blank=True)
    paper_url = models.URLField(max_length=1000, blank=True)
    license_url = models.URLField(max_length=1000, blank=True)
    weights_url = models.URLField(max_length=1000, blank=True)
    hardware = models.ForeignKey(Hardware, on_delete=models.PROTECT, default="cpu")
    tags = models.ManyToManyField(Tag, blank=True, related_name="models")
    featured = models.BooleanField(default=False)
    run_count = models.PositiveBigIntegerField(default=0)
    latest_version = models.ForeignKey(
        "Version", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_example = models.ForeignKey(
        "Prediction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The sort key behind `sort_by=latest_version_created_at`: when the newest version was
    # published, or when the model was created while it has none. Kept non-null so that
    # cursor pagination never drops rows.
    latest_version_created_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "registry_model"
        verbose_name = "model"
        ordering = ["-latest_version_created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_model_per_owner")
        ]
        indexes = [
            models.Index(
                fields=["-latest_version_created_at", "-id"], name="model_latest_version_idx"
            ),
            models.Index(fields=["-created_at", "-id"], name="model_created_idx"),
            models.Index(fields=["-run_count", "-id"], name="model_run_count_idx"),
            # The explore page's featured row: a few models among many.
            models.Index(
                fields=["-run_count", "-id"],
                name="model_featured_idx",
                condition=Q(featured=True),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.owner.username}/{self.name}"

    @property
    def is_public(self) -> bool:
        return self.visibility == self.Visibility.PUBLIC


class ImmutableVersionError(ValidationError):
    pass


class Version(models.Model):
    """A published, immutable build of a model: its Cog schema and what runs it."""

    IMMUTABLE_FIELDS: ClassVar[tuple[str, ...]] = (
        "model_id",
        "cog_version",
        "openapi_schema",
        "source",
        "source_sha256",
        "image",
    )

    class Status(models.TextChoices):
        READY = "ready"
        UNAVAILABLE = "unavailable"

    id = models.CharField(primary_key=True, max_length=64)
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="versions")
    created_at = models.DateTimeField(default=timezone.now)
    cog_version = models.CharField(max_length=64)
    openapi_schema = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.READY)
    source = models.FileField(
        upload_to="sources/", blank=True, help_text="The Cog project archive it was built from."
    )
    source_sha256 = models.CharField(max_length=64, blank=True)
    image = models.CharField(
        max_length=500, blank=True, help_text="A container image reference, when known."
    )
    cog_config = models.JSONField(default=dict, blank=True, help_text="The parsed cog.yaml.")
    cog_urls = models.JSONField(
        default=list, blank=True, help_text="URLs of running Cog servers (cog-http backend)."
    )
    # How long its runs take (exponentially weighted): short runs may take the fast path.
    predict_time_ewma = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["model", "-created_at"], name="version_model_created_idx")]

    def __str__(self) -> str:
        return f"{self.model_id}:{self.id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            self._check_immutable()
        super().save(*args, **kwargs)

    def _check_immutable(self) -> None:
        stored = type(self).objects.filter(pk=self.pk).values(*self.IMMUTABLE_FIELDS).first()
        if stored is None:
            return
        changed = [f for f in self.IMMUTABLE_FIELDS if stored[f] != _field_value(self, f)]
        if changed:
            raise ImmutableVersionError(
                f"A published version cannot be changed (tried to change {', '.join(changed)})."
            )

    @property
    def input_schema(self) -> dict[str, Any]:
        schema = (self.openapi_schema or {}).get("components", {}).get("schemas", {})
        return schema.get("Input", {}) if isinstance(schema, dict) else {}

    @property
    def output_schema(self) -> dict[str, Any]:
        schema = (self.openapi_schema or {}).get("components", {}).get("schemas", {})
        return schema.get("Output", {}) if isinstance(schema, dict) else {}


def _field_value(instance: models.Model, attname: str) -> Any:
    value = getattr(instance, attname)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    return value


class Prediction(models.Model):
    """One run of a version, with everything needed to show or replay it."""

    class Status(models.TextChoices):
        STARTING = "starting"
        PROCESSING = "processing"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"

    TERMINAL: ClassVar[frozenset[str]] = frozenset({"succeeded", "failed", "canceled"})

    class Source(models.TextChoices):
        API = "api"
        WEB = "web"

    id = models.CharField(primary_key=True, max_length=32, default=new_prediction_id)
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="predictions")
    version = models.ForeignKey(
        Version, null=True, blank=True, on_delete=models.SET_NULL, related_name="predictions"
    )
    # The version id as it was when the prediction ran; kept if the version is deleted.
    version_ref = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="predictions",
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.API)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STARTING)
    input = models.JSONField(default=dict)
    output = models.JSONField(null=True, blank=True)
    logs = models.TextField(blank=True, default="")
    # Null, not "", when there is no error: the API answers `"error": null`.
    error = models.TextField(null=True, blank=True)  # noqa: DJ001
    metrics = models.JSONField(default=dict, blank=True)
    webhook = models.URLField(max_length=2000, blank=True)
    webhook_events_filter = models.JSONField(default=list, blank=True)
    stream = models.BooleanField(default=False, help_text="The client asked for a stream URL.")
    data_removed = models.BooleanField(default=False)
    # Dispatch to a Cog server: which instance runs it, and the claim that keeps two
    # dispatchers (web fast path, worker, reaper) from sending it twice.
    instance = models.ForeignKey(
        "Instance", null=True, blank=True, on_delete=models.SET_NULL, related_name="predictions"
    )
    dispatch_claimed_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_queued_at = models.DateTimeField(null=True, blank=True)
    # The last webhook from Cog: a dispatched prediction silent for too long is given up.
    last_event_at = models.DateTimeField(null=True, blank=True)
    dispatch_attempts = models.PositiveIntegerField(default=0)
    deadline = models.DateTimeField(
        null=True, blank=True, help_text="Canceled when still running at this time (Cancel-After)."
    )
    # User webhooks: the last time an output/logs event was sent (throttled to 1 per 500 ms)
    # and whether the start/completed events went out.
    webhook_sent_at = models.DateTimeField(null=True, blank=True)
    webhook_events_sent = models.JSONField(default=list, blank=True)
    shared = models.BooleanField(
        default=False, help_text="Visible to anyone who can see the model, not only its creator."
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="prediction_creator_idx"),
            models.Index(fields=["model", "-created_at"], name="prediction_model_idx"),
            models.Index(
                fields=["status"],
                name="prediction_active_idx",
                condition=Q(status__in=["starting", "processing"]),
            ),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class Example(models.Model):
    """A finished prediction shown as an example of a model."""

    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="examples")
    prediction = models.ForeignKey(Prediction, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["model", "prediction"], name="unique_example")
        ]

    def __str__(self) -> str:
        return f"{self.model} example {self.prediction_id}"


class Collection(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    full_description = models.TextField(blank=True)
    owner = models.ForeignKey(
        Owner, null=True, blank=True, on_delete=models.SET_NULL, related_name="collections"
    )
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.slug


class CollectionItem(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="collection_items")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "model"], name="unique_collection_item")
        ]

    def __str__(self) -> str:
        return f"{self.collection_id}#{self.position}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """An API token; only its SHA-256 is stored, the token itself is shown once."""

    PREFIX: ClassVar[str] = "vt_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=16, help_text="The first characters, to recognise it.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.hint}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def new_object_id() -> str:
    return new_prediction_id()


class Build(models.Model):
    """Turning a Cog project (or the URL of a running Cog server) into a version."""

    class Status(models.TextChoices):
        STARTING = "starting"
        PROCESSING = "processing"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    TERMINAL: ClassVar[frozenset[str]] = frozenset({"succeeded", "failed"})

    class Kind(models.TextChoices):
        SOURCE = "source"
        COG_URL = "cog_url"

    id = models.CharField(primary_key=True, max_length=32, default=new_object_id)
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="builds")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    source = models.FileField(upload_to="sources/", blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    cog_urls = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STARTING)
    logs = models.TextField(blank=True, default="")
    error = models.TextField(null=True, blank=True)  # noqa: DJ001
    version = models.ForeignKey(
        Version, null=True, blank=True, on_delete=models.SET_NULL, related_name="builds"
    )
    metrics = models.JSONField(default=dict, blank=True)
    # Who is building it and when they last said so: a stale heartbeat means the worker died.
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["model", "-created_at"], name="build_model_idx")]

    def __str__(self) -> str:
        return self.id

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class Instance(models.Model):
    """A Cog server that runs one version: a coglet process this host started (local
    backend) or a URL of a server running elsewhere (cog-http)."""

    class Status(models.TextChoices):
        STARTING = "starting"
        READY = "ready"
        FAILED = "failed"
        STOPPED = "stopped"

    class Kind(models.TextChoices):
        PROCESS = "process"
        URL = "url"

    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="instances")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    url = models.URLField(max_length=500)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STARTING)
    concurrency = models.PositiveIntegerField(default=1)
    # Slots taken: reserved by a conditional UPDATE (busy < concurrency), given back when
    # the prediction ends; the reaper recounts it from the predictions now and then.
    busy = models.PositiveIntegerField(default=0)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True)
    supervisor = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    setup_logs = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    boot_time = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(default=timezone.now)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["version", "status"], name="instance_version_status_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.url} ({self.status})"


class File(models.Model):
    """A file uploaded through `POST /v1/files` (Replicate's Files API)."""

    id = models.CharField(primary_key=True, max_length=32, default=new_object_id)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="files"
    )
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    md5 = models.CharField(max_length=32)
    metadata = models.JSONField(default=dict, blank=True)
    content = models.FileField(upload_to="files/")
    shared = models.BooleanField(
        default=False, help_text="Input of a shared prediction: usable by anyone who sees it."
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.id} ({self.name})"


# Search -------------------------------------------------------------------------------
# Denormalized for search; written only by `registry.search` (see its documents module).


class SearchDocument(models.Model):
    """Everything search reads about one model, so that no query joins or parses schemas.

    Kept in step with the model by `registry.search.index_model` (called by services) and
    rebuilt by `manage.py reindex`. Text is split by weight: names (A), summary (B),
    schema fields (C), README excerpt (D); on PostgreSQL `vector` holds them weighted.
    """

    model = models.OneToOneField(
        MLModel, primary_key=True, on_delete=models.CASCADE, related_name="search_document"
    )
    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="+")
    owner_name = models.CharField(max_length=OWNER_MAX_LENGTH)
    name = models.CharField(max_length=MODEL_MAX_LENGTH)
    full_name = models.CharField(max_length=OWNER_MAX_LENGTH + MODEL_MAX_LENGTH + 1)
    visibility = models.CharField(max_length=16)
    hardware = models.CharField(max_length=64)
    tags = models.JSONField(default=list)
    collections = models.JSONField(default=list)
    input_kinds = models.JSONField(default=list)
    output_kinds = models.JSONField(default=list)
    # The same kinds as bits (registry.signatures.kinds_mask): a filter on them is one AND,
    # answered from the covering quality index without reading the table.
    input_mask = models.IntegerField(default=0)
    output_mask = models.IntegerField(default=0)
    names_text = models.TextField(blank=True)
    summary_text = models.TextField(blank=True)
    schema_text = models.TextField(blank=True)
    readme_text = models.TextField(blank=True)
    vector = SearchVectorField(null=True, blank=True)
    run_count = models.PositiveBigIntegerField(default=0)
    runs_7d = models.PositiveBigIntegerField(default=0)
    # Popularity and freshness in one number (registry.search.ranking.quality): the order
    # of a search without words, and what text relevance is blended with.
    quality = models.FloatField(default=0.0)
    # When the latest version was published (or the model created): freshness and the
    # "recently updated" sort.
    updated_at = models.DateTimeField()
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["full_name"], name="searchdoc_full_name_idx"),
            models.Index(fields=["owner_name"], name="searchdoc_owner_idx"),
            models.Index(fields=["name"], name="searchdoc_name_idx"),
            models.Index(fields=["-indexed_at"], name="searchdoc_indexed_idx"),
            models.Index(
                fields=["-quality", "-model"],
                name="searchdoc_quality_idx",
                include=["visibility", "owner", "input_mask", "output_mask"],
            ),
            models.Index(fields=["-runs_7d", "-model"], name="searchdoc_trending_idx"),
            models.Index(fields=["-run_count", "-model"], name="searchdoc_runs_idx"),
            models.Index(fields=["-updated_at", "-model"], name="searchdoc_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name


class SearchTerm(models.Model):
    """The words of the catalog, to correct misspelled query words (trigram similarity)."""

    term = models.CharField(max_length=64, primary_key=True)
    frequency = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            # Corrections compare a query word only with terms of its first letter and
            # about its length (registry.search.database): this finds those directly.
            models.Index(Left("term", 1), Length("term"), name="searchterm_shape_idx"),
        ]

    def __str__(self) -> str:
        return self.term


class ModelRunDay(models.Model):
    """Runs of a model per day (UTC): what "trending" (runs in the last 7 days) counts."""

    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    runs = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "day"], name="unique_model_run_day")
        ]
        indexes = [models.Index(fields=["day"], name="modelrunday_day_idx")]

    def __str__(self) -> str:
        return f"{self.model_id} {self.day}: {self.runs}"


class SearchSyncPending(models.Model):
    """Models whose entry in an external search index (Meilisearch) is out of date.

    Written in the same transaction as the change, drained by the `search` task after
    commit; rows stay while the index is unreachable, so no change is ever lost.
    """

    model_id = models.BigIntegerField(primary_key=True)
    queued_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.model_id)
