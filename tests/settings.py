"""Test settings: PostgreSQL whenever 127.0.0.1:5432 answers (always in CI), else SQLite."""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from registry.settings import *  # noqa: F403
from registry.settings import BASE_DIR, DATABASES


def _postgres_answers(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

if os.environ.get("DATABASE_URL"):
    pass  # the caller chose
elif _postgres_answers():
    # One database name per checkout, so that clones and worktrees can test side by side.
    checkout = hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:8]
    DATABASES["default"] = dj_database_url.parse(
        f"postgres://postgres@127.0.0.1:5432/vitrine_{checkout}", conn_max_age=0
    )
elif IN_CI:
    raise ImproperlyConfigured(
        "CI runs the suite on PostgreSQL, but 127.0.0.1:5432 does not answer."
    )

# Worker and web subprocesses started by tests share the run's folder through this variable.
TEST_RUN_DIR = Path(
    os.environ.get("VITRINE_TEST_RUN_DIR") or tempfile.mkdtemp(prefix="vitrine-test-")
)
os.environ["VITRINE_TEST_RUN_DIR"] = str(TEST_RUN_DIR)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, as in embedded mode. Django's default SQLite test database is in memory,
    # which makes the live server hand one connection to all its request threads (and
    # Cog webhooks arrive concurrently): they interleave transactions on it and fail
    # with "no such savepoint". With a file each thread has its own connection (WAL and
    # a busy timeout, from registry.settings), and subprocesses can open it too. It is
    # named after the configured file, so that a child pytest run on another file (see
    # tests/registry/search/test_sqlite.py) does not clobber this run's database.
    DATABASES["default"]["TEST"] = {
        "NAME": str(TEST_RUN_DIR / f"test_{Path(DATABASES['default']['NAME']).name}")
    }
DATA_DIR = TEST_RUN_DIR
MEDIA_ROOT = TEST_RUN_DIR / "media"
STORAGES["default"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": "/media/"},
}
SERVE_MEDIA = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
ALLOWED_HOSTS = ["*"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = TEST_RUN_DIR / "static"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}

# Model virtualenvs outlive a test run: the second run of the suite reuses them.
TEST_CACHE = Path(
    os.environ.get("VITRINE_TEST_CACHE", str(Path.home() / ".cache" / "vitrine-tests"))
)
VITRINE_ENVS_DIR = TEST_CACHE / "envs"
# Tasks run inline unless a test starts a real worker (TASK_BACKEND=database there).
if not os.environ.get("TASK_BACKEND"):
    TASKS["default"]["BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"  # noqa: F405
VITRINE_SUPERVISE_INTERVAL = 0.2
VITRINE_BOOT_TIMEOUT = 120
VITRINE_INSTANCE_IDLE_SECONDS = 600

# One process's memory, and no rate limits: tests that need either turn them on.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
VITRINE_RATE_LIMITS = {"reads": None, "writes": None, "anon": None}
