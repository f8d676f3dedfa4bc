"""The inference backend interface: how versions are built and where predictions run.

A backend hands out *instances* (`registry.models.Instance`): Cog servers, each serving
one version with `concurrency` prediction slots. Which instance a prediction runs on is
recorded on the prediction, so capacity is derived from the database and every process
(web fast path, workers, reaper) sees the same picture.
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from registry.backends import Health
from registry.cogconfig import CogConfig
from registry.inference.cog_client import CogClient, CogError
from registry.models import Instance, Prediction, Version

Log = Callable[[str], None]
ACTIVE = ("starting", "processing")


class BuildFailed(Exception):
    """A build cannot produce a version; the message is shown to the author."""


class NoCapacity(Exception):
    """Every instance of the version is busy and no other may start now: retry later."""


class SetupFailed(Exception):
    """The Cog server could not start the model (setup() raised, bad import, timeout)."""

    def __init__(self, message: str, logs: str = "") -> None:
        super().__init__(message)
        self.logs = logs


@dataclass(frozen=True)
class BuiltVersion:
    openapi_schema: dict[str, Any]
    cog_version: str
    cog_config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Lease:
    """An instance chosen for one prediction; `boot_time` when this dispatch started it."""

    instance: Instance
    boot_time: float | None = None


def cog_version_of(schema: dict[str, Any], root: dict[str, Any] | None = None) -> str:
    if root and root.get("cog_version"):
        return str(root["cog_version"])
    version = (schema.get("info") or {}).get("version")
    return str(version) if version else "unknown"


def check_schema(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise BuildFailed("The Cog server's /openapi.json is not a JSON object.")
    schemas = (schema.get("components") or {}).get("schemas") or {}
    if "Input" not in schemas or "Output" not in schemas:
        raise BuildFailed("The OpenAPI schema has no components.schemas.Input/Output.")
    return schema


class InferenceBackend(abc.ABC):
    name: str = ""

    # Building -----------------------------------------------------------------------

    @abc.abstractmethod
    def build_source(self, *, project: Path, config: CogConfig, log: Log) -> BuiltVersion:
        """Turn an unpacked Cog project into something runnable, or raise BuildFailed."""

    def register_urls(self, *, urls: list[str], log: Log) -> BuiltVersion:
        """A version served by Cog servers already running at `urls` (`docker run`, k8s)."""
        schemas = []
        root: dict[str, Any] = {}
        for url in urls:
            client = CogClient(url)
            try:
                health = client.health(timeout=10)
                log(f"{url}: {health.status}")
                schemas.append(check_schema(client.openapi()))
                root = root or client.root()
            except CogError as e:
                raise BuildFailed(f"Could not read the Cog server at {url}: {e}") from e
        if any(s != schemas[0] for s in schemas[1:]):
            raise BuildFailed("The Cog servers disagree on the schema: they run different models.")
        return BuiltVersion(
            openapi_schema=schemas[0],
            cog_version=cog_version_of(schemas[0], root),
            cog_config={"cog_urls": urls},
        )

    # Running ------------------------------------------------------------------------

    def acquire(self, version: Version, prediction: Prediction, *, may_boot: bool) -> Lease:
        """Reserve a slot for `prediction` on a ready instance of `version`.

        Raises NoCapacity when all are busy and (with `may_boot`) none may be started.
        """
        instance = reserve_ready_instance(version, prediction)
        if instance is not None:
            return Lease(instance)
        if version.cog_urls:
            ensure_url_instances(version)
            instance = reserve_ready_instance(version, prediction)
            if instance is not None:
                return Lease(instance)
            raise NoCapacity(f"All Cog servers of version {version.id[:12]} are busy or down.")
        if not may_boot:
            raise NoCapacity("No warm instance has a free slot.")
        return self.boot(version, prediction)

    def boot(self, version: Version, prediction: Prediction) -> Lease:
        raise NoCapacity(f"The {self.name} backend cannot start instances of built versions.")

    def supervise(self) -> None:  # noqa: B027
        """Periodic duties in long-running processes: watch instances, stop idle ones."""

    def start_supervisor(self) -> None:  # noqa: B027
        """Run `supervise` in the background of this process (task workers call this)."""

    def stop_all(self) -> None:  # noqa: B027
        """Stop every instance this process started (at exit, and between tests)."""

    @abc.abstractmethod
    def health(self) -> Health: ...


def in_flight() -> Count:
    return Count("predictions", filter=Q(predictions__status__in=ACTIVE))


# Ready instances per version, cached briefly in each process: the warm path should not
# ask the database which instances exist on every prediction.
READY_CACHE_SECONDS = 1.0
_ready: dict[str, tuple[float, list[Instance]]] = {}
_ready_lock = threading.Lock()


def _ready_instances(version_id: str, *, fresh: bool = False) -> list[Instance]:
    now = time.monotonic()
    with _ready_lock:
        cached = _ready.get(version_id)
    if cached is not None and not fresh and cached[0] > now:
        return cached[1]
    instances = list(
        Instance.objects.filter(version_id=version_id, status=Instance.Status.READY).order_by(
            "busy", "last_used_at", "id"
        )
    )
    with _ready_lock:
        _ready[version_id] = (now + READY_CACHE_SECONDS, instances)
    return instances


def forget_ready_instances() -> None:
    with _ready_lock:
        _ready.clear()


def reserve_ready_instance(
    version: Version, prediction: Prediction | None = None, *, only: int | None = None
) -> Instance | None:
    """Take a free slot on a ready instance of the version (`only` that instance, when
    given): one conditional UPDATE, no locks held. The caller records the instance on the
    prediction once Cog accepts it."""
    tried: set[int] = set()
    for fresh in (False, True):
        for instance in _ready_instances(version.pk, fresh=fresh):
            if instance.pk in tried or (only is not None and instance.pk != only):
                continue
            tried.add(instance.pk)
            if free_slot_of(instance.pk).update(**taking_a_slot()):
                return instance
        if only is not None and only in tried:
            return None  # it is busy again: someone else took the slot
    return None


def likeliest_free_instance(version_id: str | None) -> Instance | None:
    """The ready instance of the version most likely to have a free slot (the least busy,
    as last read); taking the slot is up to the caller (`free_slot_of`)."""
    candidates = _ready_instances(version_id) if version_id else []
    return candidates[0] if candidates else None


def free_slot_of(instance_id: int) -> QuerySet[Instance]:
    """The instance while it is ready with a free slot: `.update(**taking_a_slot())` on it
    takes the slot, or changes nothing."""
    return Instance.objects.filter(
        pk=instance_id, status=Instance.Status.READY, busy__lt=F("concurrency")
    )


def taking_a_slot() -> dict[str, Any]:
    return {"busy": F("busy") + 1, "last_used_at": timezone.now()}


def held_slot_of(instance_id: int) -> QuerySet[Instance]:
    """The instance while a slot of it is taken: `.update(**giving_a_slot_back())` on it
    frees one, or changes nothing."""
    return Instance.objects.filter(pk=instance_id, busy__gt=0)


def giving_a_slot_back() -> dict[str, Any]:
    return {"busy": F("busy") - 1}


def release_slot(instance_id: int | None) -> None:
    if instance_id is not None:
        held_slot_of(instance_id).update(**giving_a_slot_back())


def recount_busy() -> int:
    """Set `busy` from the predictions actually running (repairs slots lost to crashes)."""
    running = (
        Prediction.objects.filter(instance=OuterRef("pk"), status__in=ACTIVE)
        .values("instance")
        .annotate(n=Count("pk"))
        .values("n")
    )
    counted = Coalesce(Subquery(running), 0)
    drifted = (
        Instance.objects.filter(status=Instance.Status.READY)
        .annotate(actual=counted)
        .exclude(busy=F("actual"))
    )
    return sum(
        Instance.objects.filter(pk=pk).update(busy=actual)
        for pk, actual in drifted.values_list("pk", "actual")
    )


def ensure_url_instances(version: Version) -> None:
    """URL instances of a registered version, re-checked when all of them were marked down."""
    existing = {i.url: i for i in Instance.objects.filter(version=version, kind=Instance.Kind.URL)}
    concurrency = int((version.cog_config or {}).get("concurrency", 1) or 1)
    for url in version.cog_urls:
        instance = existing.get(url)
        if instance is None:
            Instance.objects.create(
                version=version,
                kind=Instance.Kind.URL,
                url=url,
                status=Instance.Status.READY,
                concurrency=concurrency,
                ready_at=timezone.now(),
            )
        elif instance.status != Instance.Status.READY and _answers(url):
            Instance.objects.filter(pk=instance.pk).update(status=Instance.Status.READY, error="")


def _answers(url: str) -> bool:
    try:
        return CogClient(url).health(timeout=2).ready
    except CogError:
        return False


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
