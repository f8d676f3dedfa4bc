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

TEST_RUN_DIR = Path(tempfile.mkdtemp(prefix="vitrine-test-"))
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
