"""Virtualenvs for versions, built with uv and shared by every version with the same
dependency set (Python version, packages, requirements, Cog version).

An environment is built in a temporary folder and renamed into place when complete, so a
crash mid-install never leaves a half-built environment that looks usable.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings

from registry.cogconfig import CogConfig

Log = Callable[[str], None]
READY_MARKER = ".vitrine-ready"
# pip's environment variables and the uv options that mean the same.
PIP_TO_UV = {
    "PIP_INDEX_URL": "UV_INDEX_URL",
    "PIP_EXTRA_INDEX_URL": "UV_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS": "UV_FIND_LINKS",
}


class EnvironmentBuildError(Exception):
    """The environment could not be built; the message says why (and the log has the rest)."""


def uv_executable() -> str | None:
    sibling = Path(sys.executable).with_name("uv")
    if sibling.exists():
        return str(sibling)
    return shutil.which("uv")


def env_root() -> Path:
    return Path(settings.VITRINE_ENVS_DIR)


def env_key(config: CogConfig, requirements: str, cog_version: str) -> str:
    """The cache key: everything that decides what gets installed."""
    payload = {
        "python": config.python_version,
        "packages": sorted(config.python_packages),
        "requirements": requirements.strip(),
        "cog": cog_version,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def uv_environment() -> dict[str, str]:
    env = dict(os.environ)
    for pip_name, uv_name in PIP_TO_UV.items():
        if os.environ.get(pip_name) and not os.environ.get(uv_name):
            value = os.environ[pip_name]
            # pip separates several URLs with spaces; uv does too for these variables.
            env[uv_name] = value
    env["UV_PYTHON_DOWNLOADS"] = "never"  # no network for interpreters: fail clearly instead
    env.setdefault("UV_NO_PROGRESS", "1")
    return env


def find_python(version: str) -> str | None:
    """An interpreter for `version` (3.11, 3.12.1): what uv finds, then pyenv's folders."""
    uv = uv_executable()
    if uv:
        found = subprocess.run(
            [uv, "python", "find", version],
            capture_output=True,
            text=True,
            env=uv_environment(),
            check=False,
        )
        if found.returncode == 0 and found.stdout.strip():
            return found.stdout.strip()
    major_minor = ".".join(version.split(".")[:2])
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    for root in filter(None, roots):
        for candidate in sorted(Path(root).glob(f"versions/{version}*/bin/python{major_minor}")):
            return str(candidate)
    for system in (f"/usr/bin/python{major_minor}", f"/usr/local/bin/python{major_minor}"):
        if Path(system).exists():
            return system
    return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_logged(
    command: list[str],
    *,
    log: Log,
    env: dict[str, str],
    cwd: Path | None = None,
    timeout: float = 1800,
) -> None:
    """Run a command, passing each output line to `log` as it appears."""
    log("$ " + " ".join(command))
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=cwd,
        bufsize=1,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    recent: collections.deque[str] = collections.deque(maxlen=12)
    for raw in process.stdout:
        line = raw.rstrip("\n")
        log(line)
        if line.strip():
            recent.append(line.strip())
        if time.monotonic() > deadline:
            process.kill()
            raise EnvironmentBuildError(f"{command[0]} took longer than {timeout:.0f} s.")
    if process.wait() != 0:
        raise EnvironmentBuildError(
            f"`{' '.join(command[:4])} …` failed with exit code {process.returncode}: "
            + _reason(list(recent))
        )


def _reason(lines: list[str]) -> str:
    """What a failed uv run said about why: from its `error:` line to the end."""
    starts = [i for i, line in enumerate(lines) if line.startswith(("error:", "ERROR"))]
    chosen = lines[starts[-1] :] if starts else lines[-3:]
    return " ".join(chosen)[:1000] or "no output"


def ensure(config: CogConfig, *, requirements: str, log: Log) -> Path:
    """The environment for this dependency set, built on first use."""
    cog_version = settings.VITRINE_COG_VERSION
    key = env_key(config, requirements, cog_version)
    path = env_root() / key
    if (path / READY_MARKER).exists():
        log(f"Using the cached environment {key} (cog {cog_version}).")
        return path
    with _locked(env_root() / f"{key}.lock"):
        if (path / READY_MARKER).exists():
            log(f"Using the environment {key}, built meanwhile by another build.")
            return path
        _build(path, config, requirements=requirements, cog_version=cog_version, log=log)
    return path


def _build(path: Path, config: CogConfig, *, requirements: str, cog_version: str, log: Log) -> None:
    uv = uv_executable()
    if uv is None:
        raise EnvironmentBuildError(
            "uv is not installed on this host, so no environment can be built."
        )
    python = find_python(config.python_version)
    if python is None:
        raise EnvironmentBuildError(
            f"Python {config.python_version} (build.python_version) is not installed on this host."
        )
    started = time.monotonic()
    scratch = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    env = uv_environment()
    try:
        run_logged(
            [uv, "venv", "--relocatable", "--python", python, str(scratch)], log=log, env=env
        )
        packages = [f"cog=={cog_version}", *config.python_packages]
        # Bytecode up front: a model's first import is part of its cold start.
        command = [
            uv, "pip", "install", "--compile-bytecode",
            "--python", str(scratch / "bin" / "python"), *packages,
        ]  # fmt: skip
        if requirements.strip():
            requirements_file = scratch / "requirements.txt"
            requirements_file.write_text(requirements)
            command += ["-r", str(requirements_file)]
        run_logged(command, log=log, env=env)
        (scratch / READY_MARKER).write_text(
            json.dumps({"built_seconds": time.monotonic() - started})
        )
        shutil.rmtree(path, ignore_errors=True)
        scratch.rename(path)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    log(f"Environment ready in {time.monotonic() - started:.1f} s.")
