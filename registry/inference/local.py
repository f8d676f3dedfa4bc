"""Local backend: versions built into uv virtualenvs and run as Cog runtime (coglet)
processes on loopback ports of this host.

Processes are started on demand, health-checked (STARTING → READY; SETUP_FAILED fails the
run with the setup logs), kept warm, stopped after an idle timeout, and capped per host
and per version. They run in their own session so that a dying worker does not take
running predictions with it: another process on the host adopts them (or reports them
gone), and the process that started them stops them when it exits cleanly.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from registry import archives, cogconfig
from registry.backends import Health
from registry.cogconfig import CogConfig
from registry.inference import envs, internal
from registry.inference.base import (
    BuildFailed,
    BuiltVersion,
    Lease,
    Log,
    NoCapacity,
    SetupFailed,
    in_flight,
    reserve_ready_instance,
)
from registry.inference.cog_client import CogClient, CogError, CogHealth
from registry.inference.cog_http import CogHttpBackend
from registry.models import Instance, Prediction, Version

logger = logging.getLogger(__name__)

HOST = socket.gethostname()
SCHEMA_SCRIPT = Path(__file__).with_name("cog_schema.py")
SCHEMA_EXIT_REASONS = {
    2: "The predictor does not import",
    3: "The predictor class is missing or is not a predictor",
    4: "The predictor uses a type Cog does not support",
}


def versions_root() -> Path:
    return Path(settings.DATA_DIR) / "versions"


def instances_root() -> Path:
    return Path(settings.DATA_DIR) / "instances"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def tail(path: Path, limit: int = 20_000) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def missing_system_packages(packages: tuple[str, ...]) -> list[str]:
    missing = []
    for package in packages:
        probe = subprocess.run(
            ["dpkg-query", "-W", "-f=${db:Status-Status}", package],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode != 0 or probe.stdout.strip() != "installed":
            missing.append(package)
    return missing


@dataclass
class _Tracked:
    pid: int
    process: subprocess.Popen[bytes] | None  # None for processes adopted from a dead owner

    def exit_code(self) -> int | None:
        """None while running; the exit code (or -1 when unknown) once gone."""
        if self.process is not None:
            return self.process.poll()
        return None if pid_alive(self.pid) else -1


class LocalCogBackend(CogHttpBackend):
    """Builds from source and runs coglet processes; also serves versions registered by URL."""

    name = "local"

    def __init__(self) -> None:
        self.supervisor_id = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._tracked: dict[int, _Tracked] = {}
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        atexit.register(self.stop_all)

    # Health -------------------------------------------------------------------------

    def health(self) -> Health:
        if envs.uv_executable() is None:
            return Health("down", "uv is not installed; versions cannot be built.")
        data_dir = Path(settings.DATA_DIR)
        data_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(data_dir, os.W_OK):
            return Health("down", f"{data_dir} is not writable.")
        running = Instance.objects.filter(
            host=HOST, kind=Instance.Kind.PROCESS, status=Instance.Status.READY
        ).count()
        return Health(
            "ok",
            info={
                "backend": self.name,
                "running_instances": running,
                "max_instances": settings.VITRINE_MAX_INSTANCES,
            },
        )

    # Building -----------------------------------------------------------------------

    def build_source(self, *, project: Path, config: CogConfig, log: Log) -> BuiltVersion:
        if config.gpu and not settings.VITRINE_GPU:
            raise BuildFailed(
                "cog.yaml asks for a GPU (build.gpu: true) but this Vitrine has no GPU "
                "configured (set VITRINE_GPU=true on hosts that have one)."
            )
        self._ensure_system_packages(config, log)
        try:
            env = envs.ensure(config, requirements=config.requirements_text(project), log=log)
        except envs.EnvironmentBuildError as e:
            raise BuildFailed(str(e)) from e
        schema = self._generate_schema(env, project, config.predict, log)
        (project / ".cog").mkdir(exist_ok=True)
        (project / ".cog" / "openapi_schema.json").write_text(json.dumps(schema))
        return BuiltVersion(
            openapi_schema=schema,
            cog_version=settings.VITRINE_COG_VERSION,
            cog_config={
                "config": config.raw,
                "concurrency": config.concurrency,
                "env": env.name,
            },
        )

    def _ensure_system_packages(self, config: CogConfig, log: Log) -> None:
        if not config.system_packages:
            return
        missing = missing_system_packages(config.system_packages)
        if not missing:
            log(f"System packages present: {', '.join(config.system_packages)}.")
            return
        if settings.VITRINE_APT_INSTALL and os.geteuid() == 0:
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            try:
                envs.run_logged(
                    ["apt-get", "install", "-y", "--no-install-recommends", *missing],
                    log=log,
                    env=env,
                )
            except envs.EnvironmentBuildError as e:
                raise BuildFailed(f"Installing system packages failed: {e}") from e
            still = missing_system_packages(tuple(missing))
            if still:
                raise BuildFailed(f"System packages could not be installed: {', '.join(still)}.")
            return
        raise BuildFailed(
            "cog.yaml needs system packages that this host lacks: "
            f"{', '.join(missing)}. Install them on the host, or let Vitrine install them "
            "(VITRINE_APT_INSTALL=true, running as root)."
        )

    def _generate_schema(self, env: Path, project: Path, predict: str, log: Log) -> dict[str, Any]:
        log(f"Reading the predictor's signature from {predict} …")
        result = subprocess.run(
            [str(env / "bin" / "python"), str(SCHEMA_SCRIPT), str(project), predict],
            capture_output=True,
            text=True,
            cwd=project,
            env=self._process_env(env, {}),
            timeout=settings.VITRINE_SCHEMA_TIMEOUT,
            check=False,
        )
        if result.stderr.strip():
            log(result.stderr.rstrip())
        if result.returncode != 0:
            reason = SCHEMA_EXIT_REASONS.get(result.returncode, "Reading the predictor failed")
            last = result.stderr.strip().splitlines()[-1:] or [""]
            raise BuildFailed(f"{reason}: {last[0]}".rstrip(": "))
        try:
            schema: dict[str, Any] = json.loads(result.stdout)
        except ValueError as e:
            raise BuildFailed(f"The schema generator printed no JSON: {e}") from e
        return schema

    # Materializing ------------------------------------------------------------------

    def materialize(self, version: Version, log: Log | None = None) -> tuple[Path, Path, CogConfig]:
        """The version's project folder and environment on this host, made on first use
        (from the source archive in storage, so any worker machine can run any version)."""
        log = log or (lambda line: logger.info("%s: %s", version.id[:12], line))
        project = versions_root() / version.id
        marker = project / ".vitrine-ready"
        if not marker.exists():
            if not version.source:
                raise SetupFailed(f"Version {version.id[:12]} has no source to run from.")
            scratch = Path(
                tempfile.mkdtemp(prefix=f"{version.id[:12]}-", dir=versions_root().parent)
            )
            try:
                archive = scratch / "source.tar.gz"
                with version.source.open("rb") as src, archive.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                unpacked = scratch / "project"
                archives.unpack(archive, unpacked)
                (unpacked / ".cog").mkdir(exist_ok=True)
                (unpacked / ".cog" / "openapi_schema.json").write_text(
                    json.dumps(version.openapi_schema)
                )
                (unpacked / ".vitrine-ready").write_text(version.id)
                project.parent.mkdir(parents=True, exist_ok=True)
                try:
                    unpacked.rename(project)
                except OSError:
                    if not marker.exists():  # not a concurrent materialization
                        raise
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        try:
            config = cogconfig.load(project)
            env = envs.ensure(config, requirements=config.requirements_text(project), log=log)
        except (cogconfig.CogConfigError, envs.EnvironmentBuildError) as e:
            raise SetupFailed(f"Cannot prepare version {version.id[:12]}: {e}") from e
        return project, env, config

    def install_project(self, version_id: str, project: Path) -> None:
        """Keep a just-built project as the version's folder (saves unpacking it again)."""
        target = versions_root() / version_id
        if (target / ".vitrine-ready").exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(project, target)
        (target / ".vitrine-ready").write_text(version_id)

    # Running ------------------------------------------------------------------------

    def _process_env(self, env: Path, extra: dict[str, str]) -> dict[str, str]:
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_", "AWS_", "SECRET_", "VITRINE_", "PYTHON"))
        }
        # coglet starts its worker as `python` from PATH: the environment's must come first.
        environment["PATH"] = f"{env / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        environment["VIRTUAL_ENV"] = str(env)
        environment.update(extra)
        return environment

    def boot(self, version: Version, prediction: Prediction) -> Lease:
        deadline = time.monotonic() + settings.VITRINE_BOOT_TIMEOUT
        while True:
            starting = Instance.objects.filter(
                version=version, kind=Instance.Kind.PROCESS, status=Instance.Status.STARTING
            ).first()
            if starting is None:
                instance = self._start_instance_if_room(version)
                if instance is not None:
                    booted = self._wait_ready(instance)
                    reserved = reserve_ready_instance(version, prediction)
                    if reserved is not None:
                        return Lease(
                            reserved, boot_time=booted if reserved.pk == instance.pk else None
                        )
                elif not self._room_for(version):
                    raise NoCapacity("Every model slot on this host is busy.")
            else:
                # Someone else is starting one: wait for it rather than start a second.
                self._wait_for_other(starting, deadline)
            reserved = reserve_ready_instance(version, prediction)
            if reserved is not None:
                return Lease(reserved)
            if time.monotonic() > deadline:
                raise NoCapacity("No instance of this version became free in time.")
            time.sleep(0.05)

    def _wait_for_other(self, instance: Instance, deadline: float) -> None:
        while time.monotonic() < deadline:
            instance.refresh_from_db(fields=["status", "error", "setup_logs", "heartbeat_at"])
            if instance.status == Instance.Status.FAILED:
                raise SetupFailed(
                    instance.error or "The model failed to start.", instance.setup_logs
                )
            if instance.status != Instance.Status.STARTING:
                return
            stale = (
                instance.heartbeat_at is None
                or (timezone.now() - instance.heartbeat_at).total_seconds()
                > 2 * settings.VITRINE_ORPHAN_SECONDS
            )
            if stale and not (instance.pid and instance.host == HOST and pid_alive(instance.pid)):
                Instance.objects.filter(pk=instance.pk, status=Instance.Status.STARTING).update(
                    status=Instance.Status.FAILED,
                    error="Its starter went away.",
                    stopped_at=timezone.now(),
                )
                return
            time.sleep(0.05)

    def _room_for(self, version: Version) -> bool:
        running = Instance.objects.filter(
            host=HOST,
            kind=Instance.Kind.PROCESS,
            status__in=(Instance.Status.STARTING, Instance.Status.READY),
        )
        per_version = running.filter(version=version).count()
        if per_version >= settings.VITRINE_MAX_INSTANCES_PER_VERSION:
            return False
        if running.count() < settings.VITRINE_MAX_INSTANCES:
            return True
        return self._evict_one_idle(exclude_version=version)

    def _evict_one_idle(self, exclude_version: Version) -> bool:
        idle = (
            Instance.objects.filter(
                host=HOST, kind=Instance.Kind.PROCESS, status=Instance.Status.READY
            )
            .exclude(version=exclude_version)
            .annotate(running=in_flight())
            .filter(running=0)
            .order_by("last_used_at")
            .first()
        )
        if idle is None:
            return False
        self.stop_instance(idle, reason="Stopped to make room for another model.")
        return True

    def _start_instance_if_room(self, version: Version) -> Instance | None:
        with transaction.atomic():
            # Serialize starters on this version row so two dispatchers do not both start one.
            Version.objects.select_for_update().filter(pk=version.pk).values("pk").first()
            if Instance.objects.filter(
                version=version, kind=Instance.Kind.PROCESS, status=Instance.Status.STARTING
            ).exists():
                return None
            if not self._room_for(version):
                return None
            port = free_port()
            instance = Instance.objects.create(
                version=version,
                kind=Instance.Kind.PROCESS,
                url=f"http://127.0.0.1:{port}",
                status=Instance.Status.STARTING,
                concurrency=int((version.cog_config or {}).get("concurrency", 1) or 1),
                host=HOST,
                port=port,
                supervisor=self.supervisor_id,
                heartbeat_at=timezone.now(),
            )
        try:
            self._spawn(instance, version)
        except SetupFailed as e:
            self._mark_failed(instance, str(e), e.logs)
            raise
        except Exception as e:
            self._mark_failed(instance, f"Could not start the model: {e}", "")
            raise SetupFailed(f"Could not start the model: {e}") from e
        return instance

    def _spawn(self, instance: Instance, version: Version) -> None:
        project, env, config = self.materialize(version)
        instances_root().mkdir(parents=True, exist_ok=True)
        log_path = instances_root() / f"{instance.pk}.log"
        extra = {
            **config.environment,
            "PORT": str(instance.port),
            "COG_PREDICT_TYPE_STUB": config.predict,
            # coglet takes its slot count from here, not from cog.yaml.
            "COG_MAX_CONCURRENCY": str(config.concurrency),
        }
        if config.train:
            extra["COG_TRAIN_TYPE_STUB"] = config.train
        with log_path.open("ab") as log_file:
            process = subprocess.Popen(
                [
                    str(env / "bin" / "python"),
                    "-m",
                    "cog.server.http",
                    "--host",
                    "127.0.0.1",
                    "--upload-url",
                    internal.upload_url(instance.pk),
                ],
                cwd=project,
                env=self._process_env(env, extra),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        Instance.objects.filter(pk=instance.pk).update(pid=process.pid)
        instance.pid = process.pid
        with self._lock:
            self._tracked[instance.pk] = _Tracked(process.pid, process)
        self._ensure_supervisor()

    def _wait_ready(self, instance: Instance) -> float:
        started = time.monotonic()
        client = CogClient(instance.url)
        log_path = instances_root() / f"{instance.pk}.log"
        tracked = self._tracked.get(instance.pk)
        while time.monotonic() - started < settings.VITRINE_BOOT_TIMEOUT:
            code = tracked.exit_code() if tracked else None
            if code is not None:
                logs = tail(log_path)
                self._forget(instance.pk)
                self._mark_failed(
                    instance, f"The model process exited with code {code} while starting.", logs
                )
                raise SetupFailed(
                    f"The model process exited with code {code} while starting.", logs
                )
            try:
                health = client.health(timeout=1.0)
            except CogError:
                time.sleep(0.03)
                continue
            if health.ready:
                elapsed = time.monotonic() - started
                Instance.objects.filter(pk=instance.pk).update(
                    status=Instance.Status.READY,
                    ready_at=timezone.now(),
                    boot_time=elapsed,
                    setup_logs=health.setup_logs,
                    last_used_at=timezone.now(),
                )
                return elapsed
            if health.status in ("SETUP_FAILED", "DEFUNCT"):
                logs = health.setup_logs or tail(log_path)
                self.stop_instance(instance, reason="setup failed", status=Instance.Status.FAILED)
                self._mark_failed(instance, "The model's setup() failed.", logs)
                raise SetupFailed("The model's setup() failed.", logs)
            time.sleep(0.03)
        logs = tail(log_path)
        self.stop_instance(instance, reason="boot timeout", status=Instance.Status.FAILED)
        self._mark_failed(
            instance, f"The model did not start within {settings.VITRINE_BOOT_TIMEOUT} s.", logs
        )
        raise SetupFailed(
            f"The model did not start within {settings.VITRINE_BOOT_TIMEOUT} s.", logs
        )

    def _mark_failed(self, instance: Instance, error: str, logs: str) -> None:
        Instance.objects.filter(pk=instance.pk).update(
            status=Instance.Status.FAILED, error=error, setup_logs=logs, stopped_at=timezone.now()
        )

    def _forget(self, instance_id: int) -> None:
        with self._lock:
            self._tracked.pop(instance_id, None)

    def stop_instance(
        self, instance: Instance, *, reason: str, status: str = Instance.Status.STOPPED
    ) -> None:
        """Stop the process (whoever started it) and record why."""
        Instance.objects.filter(
            pk=instance.pk, status__in=(Instance.Status.STARTING, Instance.Status.READY)
        ).update(status=status, error=reason, stopped_at=timezone.now())
        with self._lock:
            tracked = self._tracked.pop(instance.pk, None)
        pid = tracked.pid if tracked else instance.pid
        if pid and instance.host == HOST:
            _terminate(pid, tracked.process if tracked else None)

    def stop_all(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        with self._lock:
            owned = list(self._tracked.items())
            self._tracked.clear()
        if not owned:
            return
        try:
            close_old_connections()
            Instance.objects.filter(pk__in=[pk for pk, _ in owned]).filter(
                status__in=(Instance.Status.STARTING, Instance.Status.READY)
            ).update(
                status=Instance.Status.STOPPED,
                error="Stopped with its owner.",
                stopped_at=timezone.now(),
            )
        except Exception:  # at interpreter exit the database may be gone: still stop processes
            logger.warning("Could not record stopped instances", exc_info=True)
        for _, tracked in owned:
            _terminate(tracked.pid, tracked.process)

    # Supervision --------------------------------------------------------------------

    def _ensure_supervisor(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping.clear()
                self._thread = threading.Thread(
                    target=self._supervise_forever, name="cog-supervisor", daemon=True
                )
                self._thread.start()

    def start_supervisor(self) -> None:
        self._ensure_supervisor()

    def _supervise_forever(self) -> None:
        while not self._stopping.wait(settings.VITRINE_SUPERVISE_INTERVAL):
            try:
                self.supervise()
            except Exception:
                logger.exception("Supervising Cog instances failed")
            finally:
                close_old_connections()

    def supervise(self) -> None:
        from registry import predictions  # the service that fails runs on a dead instance

        now = timezone.now()
        with self._lock:
            owned = list(self._tracked.items())
        for instance_id, tracked in owned:
            code = tracked.exit_code()
            if code is None:
                continue
            self._forget(instance_id)
            instance = Instance.objects.filter(pk=instance_id).first()
            if instance is None or instance.status not in (
                Instance.Status.STARTING,
                Instance.Status.READY,
            ):
                continue
            reason = f"The model process stopped unexpectedly (exit code {code})."
            logs = tail(instances_root() / f"{instance_id}.log", 4000)
            self._mark_failed(instance, reason, logs)
            predictions.fail_on_instance(instance_id=instance_id, reason=reason)
        alive = [pk for pk, t in owned if t.exit_code() is None]
        if alive:
            Instance.objects.filter(pk__in=alive).update(heartbeat_at=now)
        self._stop_idle(now)
        self._adopt_orphans(now)
        self._watch_adopted_starting()
        super().supervise()

    def _stop_idle(self, now: Any) -> None:
        cutoff = now - timedelta(seconds=settings.VITRINE_INSTANCE_IDLE_SECONDS)
        idle = (
            Instance.objects.filter(
                host=HOST,
                kind=Instance.Kind.PROCESS,
                status=Instance.Status.READY,
                last_used_at__lt=cutoff,
            )
            .annotate(running=in_flight())
            .filter(running=0)
        )
        for instance in idle:
            self.stop_instance(instance, reason="Stopped after being idle.")

    def _adopt_orphans(self, now: Any) -> None:
        """Instances whose starter stopped reporting: take over the live ones (a ready one
        keeps serving; a starting one is watched until it is ready), fail the rest."""
        from registry import predictions

        stale = now - timedelta(seconds=settings.VITRINE_ORPHAN_SECONDS)
        orphans = Instance.objects.filter(
            Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True),
            host=HOST,
            kind=Instance.Kind.PROCESS,
            status__in=(Instance.Status.STARTING, Instance.Status.READY),
        ).exclude(supervisor=self.supervisor_id)
        for instance in orphans:
            alive = bool(instance.pid) and pid_alive(instance.pid or 0)
            health = self._probe(instance) if alive else None
            booting = instance.status == Instance.Status.STARTING and (
                health is None or health.status == "STARTING"
            )
            if alive and ((health is not None and health.ready) or booting):
                assert instance.pid is not None
                Instance.objects.filter(pk=instance.pk).update(
                    supervisor=self.supervisor_id, heartbeat_at=now
                )
                with self._lock:
                    self._tracked[instance.pk] = _Tracked(instance.pid, None)
                logger.info("Adopted Cog instance %s (pid %s)", instance.pk, instance.pid)
            else:
                reason = "The model process was lost with the worker that started it."
                self.stop_instance(instance, reason=reason, status=Instance.Status.FAILED)
                predictions.fail_on_instance(instance_id=instance.pk, reason=reason)

    def _probe(self, instance: Instance) -> CogHealth | None:
        try:
            return CogClient(instance.url).health(timeout=1)
        except CogError:
            return None

    def _watch_adopted_starting(self) -> None:
        """An adopted instance that was still starting: mark it ready (or failed) ourselves,
        since the process that waited for it is gone."""
        with self._lock:
            adopted = [pk for pk, t in self._tracked.items() if t.process is None]
        if not adopted:
            return
        for instance in Instance.objects.filter(pk__in=adopted, status=Instance.Status.STARTING):
            health = self._probe(instance)
            age = (timezone.now() - instance.created_at).total_seconds()
            if health is not None and health.ready:
                Instance.objects.filter(pk=instance.pk).update(
                    status=Instance.Status.READY,
                    ready_at=timezone.now(),
                    setup_logs=health.setup_logs,
                    last_used_at=timezone.now(),
                )
            elif (health is not None and health.status in ("SETUP_FAILED", "DEFUNCT")) or (
                age > settings.VITRINE_BOOT_TIMEOUT
            ):
                logs = health.setup_logs if health is not None else ""
                self.stop_instance(instance, reason="setup failed", status=Instance.Status.FAILED)
                self._mark_failed(instance, "The model's setup() failed.", logs)


def _terminate(pid: int, process: subprocess.Popen[bytes] | None, grace: float = 5.0) -> None:
    """SIGTERM the process group (coglet and its Python worker), then SIGKILL if needed."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if process is not None:
            if process.poll() is not None:
                break
        elif not pid_alive(pid):
            break
        time.sleep(0.02)
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    if process is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=1)


def dump_config(config: CogConfig) -> str:
    return yaml.safe_dump(config.raw)
