"""Publishing: a source archive or the URL of a running Cog server becomes a build, and a
successful build becomes an immutable version. Builds run in the task worker."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import traceback
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import close_old_connections, transaction
from django.utils import timezone

from registry import archives, backends, cogconfig, events, files, selectors, services
from registry.errors import InvalidInput, NotFound, PayloadTooLarge
from registry.inference.base import BuildFailed, BuiltVersion
from registry.models import Build, MLModel, Version
from registry.selectors import Actor

logger = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"


def _check_writer(actor: Actor, model: MLModel) -> None:
    services.model_check_writable(actor, model, "publish versions of")


def _enqueue(build: Build) -> None:
    from registry import tasks

    transaction.on_commit(lambda: tasks.run_build.enqueue(build.pk))


def build_create_from_archive(*, actor: Actor, model: MLModel, upload: UploadedFile) -> Build:
    """Accept a project archive (.tar.gz) and queue its build."""
    _check_writer(actor, model)
    if upload.size is not None and upload.size > settings.VITRINE_MAX_SOURCE_BYTES:
        raise PayloadTooLarge(
            f"The archive is {upload.size} bytes; the limit is {settings.VITRINE_MAX_SOURCE_BYTES}."
        )
    head = upload.read(2)
    upload.seek(0)
    if head != GZIP_MAGIC:
        raise InvalidInput.single("source", "Must be a .tar.gz archive of a Cog project.")
    try:
        _, cog_yaml = archives.check(upload, read="cog.yaml")
        if cog_yaml is None:
            raise cogconfig.CogConfigError("The project has no cog.yaml at its root.")
        # What cog.yaml says on its own; the files it names are checked by the build.
        cogconfig.parse(cog_yaml.decode("utf-8", errors="replace"))
    except (archives.ArchiveError, cogconfig.CogConfigError) as e:
        raise InvalidInput.single("source", str(e)) from e
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    sha256 = digest.hexdigest()
    build = Build(
        model=model,
        created_by=selectors.signed_in(actor),
        kind=Build.Kind.SOURCE,
        source_sha256=sha256,
    )
    build.source.save(f"{sha256}.tar.gz", upload, save=False)
    with files.removed_unless_recorded(build.source), transaction.atomic():
        build.save()
        _enqueue(build)
    return build


def build_create_from_urls(*, actor: Actor, model: MLModel, urls: list[str]) -> Build:
    """Register Cog servers already running at `urls` as a new version."""
    _check_writer(actor, model)
    if not urls:
        raise InvalidInput.single("cog_url", "Give the URL of a running Cog server.")
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput.single("cog_url", f"{url!r} is not an http(s) URL.")
    with transaction.atomic():
        build = Build.objects.create(
            model=model,
            created_by=selectors.signed_in(actor),
            kind=Build.Kind.COG_URL,
            cog_urls=[u.rstrip("/") for u in urls],
        )
        _enqueue(build)
    return build


def build_get(*, build_id: str, user: Actor) -> Build:
    build = Build.objects.select_related("model__owner", "version").filter(pk=build_id).first()
    if build is None or not selectors.can_read_builds(user, build.model):
        raise NotFound(f"Build {build_id} not found.")
    return build


class BuildLog:
    """Build output on the build row within a quarter second, even while a step is silent,
    and a heartbeat that tells the reaper the worker is alive.

    Lines are buffered and written by a background thread, so a chatty `uv pip install`
    does not cost a database write per line, and a line followed by a long quiet step
    (importing a slow predictor) still shows at once.
    """

    FLUSH_SECONDS = 0.25

    def __init__(self, build_id: str) -> None:
        self.build_id = build_id
        self.lines: list[str] = []
        self.dirty = False
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.heartbeat_every = max(0.5, settings.VITRINE_BUILD_STALE_SECONDS / 4)
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"build-{build_id}")

    def __enter__(self) -> BuildLog:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.flush()

    def __call__(self, line: str) -> None:
        with self.lock:
            self.lines.append(line)
            self.dirty = True

    @property
    def text(self) -> str:
        with self.lock:
            return "\n".join(self.lines)

    def flush(self) -> None:
        with self.lock:
            self.dirty = False
        text = self.text
        Build.objects.filter(pk=self.build_id).update(
            logs=text + ("\n" if text else ""), heartbeat_at=timezone.now()
        )
        events.notify(events.build_key(self.build_id))

    def _run(self) -> None:
        last_beat = time.monotonic()
        try:
            while not self.stopped.wait(self.FLUSH_SECONDS):
                if self.dirty:
                    self.flush()
                    last_beat = time.monotonic()
                elif time.monotonic() - last_beat > self.heartbeat_every:
                    Build.objects.filter(pk=self.build_id).update(heartbeat_at=timezone.now())
                    last_beat = time.monotonic()
        finally:
            close_old_connections()


def _claim(build_id: str, worker: str) -> Build | None:
    now = timezone.now()
    claimed = Build.objects.filter(pk=build_id, status=Build.Status.STARTING).update(
        status=Build.Status.PROCESSING, started_at=now, heartbeat_at=now, worker=worker
    )
    if not claimed:
        return None
    return Build.objects.select_related("model__owner").get(pk=build_id)


def build_run(*, build_id: str, worker: str = "") -> None:
    """The build itself (in the worker): unpack, build, publish — or fail with the reason."""
    build = _claim(build_id, worker or f"pid:{os.getpid()}")
    if build is None:
        return
    started = time.monotonic()
    with BuildLog(build_id) as log:
        status, version, error = _run(build, log)
    _finish(build_id, log, status, version=version, error=error, started=started)


def _run(build: Build, log: BuildLog) -> tuple[str, Version | None, str | None]:
    try:
        if build.kind == Build.Kind.COG_URL:
            log(f"Registering Cog server(s): {', '.join(build.cog_urls)}")
            built = backends.inference_backend().register_urls(urls=build.cog_urls, log=log)
            version = version_publish(build=build, built=built)
        else:
            version = _build_source(build, log)
        log(f"Published version {version.id}.")
        return Build.Status.SUCCEEDED, version, None
    except (BuildFailed, cogconfig.CogConfigError, archives.ArchiveError) as e:
        log(f"Build failed: {e}")
        return Build.Status.FAILED, None, str(e)
    except Exception as e:
        logger.exception("Build %s crashed", build.pk)
        log(traceback.format_exc())
        return Build.Status.FAILED, None, f"Internal error: {type(e).__name__}: {e}"


def _build_source(build: Build, log: BuildLog) -> Version:
    workdir = Path(tempfile.mkdtemp(prefix=f"build-{build.pk}-", dir=_builds_root()))
    try:
        archive = workdir / "source.tar.gz"
        with build.source.open("rb") as src, archive.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        project = workdir / "project"
        count = archives.unpack(archive, project)
        log(f"Unpacked {count} files.")
        config = cogconfig.load(project)
        log(
            f"cog.yaml: Python {config.python_version}, predict {config.predict}, "
            f"{len(config.python_packages)} package(s), concurrency {config.concurrency}."
        )
        backend = backends.inference_backend()
        built = backend.build_source(project=project, config=config, log=log)
        version = version_publish(build=build, built=built)
        install = getattr(backend, "install_project", None)
        if install is not None:
            install(version.id, project)
        return version
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _builds_root() -> Path:
    root = Path(settings.DATA_DIR) / "builds"
    root.mkdir(parents=True, exist_ok=True)
    return root


def version_id_for(build: Build, built: BuiltVersion) -> str:
    """Content-derived: the same project (or servers) and schema give the same version."""
    what = build.source_sha256 if build.kind == Build.Kind.SOURCE else json.dumps(build.cog_urls)
    payload = f"{build.model_id}\n{what}\n{json.dumps(built.openapi_schema, sort_keys=True)}"
    return hashlib.sha256(payload.encode()).hexdigest()


@transaction.atomic
def version_publish(*, build: Build, built: BuiltVersion) -> Version:
    version_id = version_id_for(build, built)
    existing = Version.objects.filter(pk=version_id).first()
    if existing is not None:
        return existing  # pushing the same thing twice gives the same version
    version = Version(
        id=version_id,
        model=build.model,
        cog_version=built.cog_version,
        openapi_schema=built.openapi_schema,
        cog_config=built.cog_config,
        cog_urls=build.cog_urls if build.kind == Build.Kind.COG_URL else [],
        source_sha256=build.source_sha256,
    )
    if build.source:
        version.source.name = build.source.name  # the archive is kept, not copied
    version.save(force_insert=True)
    services.model_refresh_latest_version(model=build.model)
    return version


def _finish(
    build_id: str,
    log: BuildLog,
    status: str,
    *,
    started: float,
    version: Version | None = None,
    error: str | None = None,
) -> None:
    Build.objects.filter(pk=build_id).update(
        status=status,
        version=version,
        error=error,
        completed_at=timezone.now(),
        metrics={"build_time": round(time.monotonic() - started, 3)},
        logs=log.text + "\n",
    )
    events.notify(events.build_key(build_id))


def fail_stale(*, build_id: str, reason: str) -> bool:
    updated = Build.objects.filter(
        pk=build_id, status__in=(Build.Status.STARTING, Build.Status.PROCESSING)
    ).update(status=Build.Status.FAILED, error=reason, completed_at=timezone.now())
    events.notify(events.build_key(build_id))
    return bool(updated)
