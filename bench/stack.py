"""A production-shaped Vitrine for benchmarks: its own PostgreSQL database, gunicorn, and
task workers, each a separate process on loopback. Load comes from the bench process."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from registry import archives

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def recreate_database(name: str) -> str:
    for command in (["dropdb", "--if-exists"], ["createdb"]):
        subprocess.run(
            [*command, "-h", "127.0.0.1", "-U", "postgres", name], check=True, capture_output=True
        )
    return f"postgres://postgres@127.0.0.1:5432/{name}"


@dataclass
class Stack:
    """Settings shared by every process of one benchmark deployment."""

    name: str
    scratch: Path
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    url: str = ""
    # What was started (`start_web`, `start_worker` and their arguments), for `restart`.
    started: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def create(cls, name: str, scratch: Path, **extra: str) -> Stack:
        if not postgres_answers():
            raise RuntimeError("The benchmarks need PostgreSQL on 127.0.0.1:5432.")
        data = scratch / name
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        port = free_port()
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "registry.settings",
                "DATABASE_URL": recreate_database(f"vitrine_bench_{name}"),
                "DEBUG": "false",
                "SECRET_KEY": "bench-secret-key-not-for-production",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "VITRINE_DATA_DIR": str(data),
                "VITRINE_ENVS_DIR": str(scratch / "envs"),
                "VITRINE_INTERNAL_URL": f"http://127.0.0.1:{port}",
                "VITRINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "TASK_BACKEND": "database",
                "SECURE_COOKIES": "false",
                "LOG_LEVEL": "WARNING",
                "PORT": str(port),
                # The load comes from one address: measure the server, not its rate limits.
                "VITRINE_RATE_LIMIT_READS": "off",
                "VITRINE_RATE_LIMIT_WRITES": "off",
                "VITRINE_RATE_LIMIT_ANON": "off",
                **extra,
            }
        )
        stack = cls(name=name, scratch=data, env=env, url=f"http://127.0.0.1:{port}")
        stack.manage("migrate", "--noinput", quiet=True)
        stack.manage("collectstatic", "--noinput", quiet=True)
        return stack

    def manage(self, *args: str, quiet: bool = False) -> str:
        result = subprocess.run(
            [PYTHON, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout.strip() if not quiet else ""

    def spawn(self, command: list[str], log: str) -> subprocess.Popen[bytes]:
        handle = (self.scratch / log).open("ab")
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def start_web(self, workers: int = 2, threads: int = 16) -> None:
        self.started.append(("start_web", {"workers": workers, "threads": threads}))
        port = self.url.rsplit(":", 1)[1]
        self.spawn(
            [
                PYTHON, "-m", "gunicorn", "registry.wsgi", "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers), "--threads", str(threads), "--timeout", "120",
                "--keep-alive", "30",
            ],
            "web.log",
        )  # fmt: skip
        wait_serving(self.url)

    def start_worker(self, queues: str = "*") -> None:
        self.started.append(("start_worker", {"queues": queues}))
        self.spawn(
            [
                PYTHON, str(ROOT / "manage.py"), "runworker", "--queue-name", queues,
                "--interval", "0.05", "--no-startup-delay",
            ],
            f"worker-{len(self.processes)}.log",
        )  # fmt: skip

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()

    def restart(self, **env: str) -> None:
        """Stop every process, change their environment, and start the same web server and
        workers again (a worker stops the model processes it started)."""
        started = list(self.started)
        self.stop()
        self.started.clear()
        self.env.update(env)
        for method, kwargs in started:
            getattr(self, method)(**kwargs)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def wait_serving(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/healthz", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def wait_build(client: httpx.Client, build_id: str, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        build: dict[str, Any] = client.get(f"/v1/builds/{build_id}").json()
        if build["status"] in ("succeeded", "failed"):
            return build
        time.sleep(0.1)
    raise RuntimeError(f"build {build_id} did not finish")


def create_model(client: httpx.Client, name: str) -> None:
    """A public model `bench/NAME` to publish versions of."""
    model = {"owner": "bench", "name": name, "visibility": "public", "hardware": "cpu"}
    client.post("/v1/models", json=model).raise_for_status()


def push(client: httpx.Client, name: str, project: Path) -> tuple[float, dict[str, Any]]:
    """Publish PROJECT as a version of `bench/NAME` through the API and wait for its build:
    the seconds it took, and the finished build."""
    started = time.perf_counter()
    response = client.post(
        f"/v1/models/bench/{name}/versions",
        files={"source": ("p.tar.gz", archives.pack(project), "application/gzip")},
    )
    response.raise_for_status()
    build = wait_build(client, response.json()["id"])
    if build["status"] != "succeeded":
        raise RuntimeError(f"build failed: {build['error']}\n{build['logs'][-2000:]}")
    return time.perf_counter() - started, build


def publish(client: httpx.Client, name: str, project: Path) -> str:
    """A new model `bench/NAME` with PROJECT as its version; the version id."""
    create_model(client, name)
    return str(push(client, name, project)[1]["version"])
