"""A Python with the Cog SDK installed, for tests that run `cog_schema.py` or coglet.

The virtualenv is built once with uv under ``$VITRINE_TEST_CACHE`` (default
``~/.cache/vitrine-tests``), keyed by the Cog version, and reused by later runs. A lock file
keeps parallel workers (pytest-xdist) from building it twice; a marker file written last means
a half-built environment is rebuilt rather than used.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

COG_VERSION = "0.23.1"
READY_MARKER = ".vitrine-ready"


def cache_dir() -> Path:
    return Path(os.environ.get("VITRINE_TEST_CACHE", "~/.cache/vitrine-tests")).expanduser()


def find_uv() -> str | None:
    found = shutil.which("uv")
    if found:
        return found
    sibling = Path(sys.executable).with_name("uv")
    return str(sibling) if sibling.exists() else None


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_cog_env(version: str = COG_VERSION) -> Path:
    """The python of a virtualenv holding ``cog==version`` and pyyaml, built if missing."""
    root = cache_dir()
    env_dir = root / f"cog-{version}-py{sys.version_info.major}.{sys.version_info.minor}"
    python = env_dir / "bin" / "python"
    with _locked(root / f"{env_dir.name}.lock"):
        if (env_dir / READY_MARKER).exists() and python.exists():
            return python
        uv = find_uv()
        if uv is None:
            pytest.fail("uv is needed to build the Cog test environment but was not found")
        shutil.rmtree(env_dir, ignore_errors=True)
        build = [
            [uv, "venv", "--quiet", "--python", sys.executable, str(env_dir)],
            [uv, "pip", "install", "--quiet", "--python", str(python), f"cog=={version}", "pyyaml"],
            [str(python), "-c", f"import cog, yaml; assert cog.__version__ == {version!r}"],
        ]
        for command in build:
            result = subprocess.run(command, capture_output=True, text=True, timeout=600)
            if result.returncode != 0:
                pytest.fail(
                    f"building the Cog {version} test environment failed: {' '.join(command)}\n"
                    f"{result.stdout}{result.stderr}"
                )
        (env_dir / READY_MARKER).write_text(version)
    return python


@pytest.fixture(scope="session")
def cog_python() -> Path:
    """Path to the python of a cached virtualenv with ``cog==0.23.1`` (and pyyaml)."""
    return ensure_cog_env()
