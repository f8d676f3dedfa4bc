"""Vitrine's one settings module.

Everything is read from environment variables. The defaults run with nothing installed
but Python (SQLite, local files, database search, database task queue, local Cog
runtime); production swaps each part by setting a variable, documented in README.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from registry.rates import Rate, parse_rate

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Where the embedded defaults keep their state: SQLite file, uploaded files, model
# virtualenvs and build directories.
DATA_DIR = Path(os.environ.get("VITRINE_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

# The URL at which users reach this server (used for absolute links in API answers
# when no request is at hand, e.g. in webhook payloads sent by the worker).
PUBLIC_URL = os.environ.get("VITRINE_PUBLIC_URL", "").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "registry",
    "catalog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "registry.middleware.RequestLimitsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'vitrine.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Covering indexes (INCLUDE) are PostgreSQL's; on SQLite they are plain indexes.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
    # The web process, the worker and coglet webhooks write concurrently: WAL and a
    # busy timeout keep SQLite from answering "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "catalog:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(DATA_DIR / "media")))

# Files: a local folder by default; any S3-compatible object store when a bucket is named.
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
_default_storage: dict[str, Any]
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "access_key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
            "custom_domain": os.environ.get("AWS_S3_CUSTOM_DOMAIN") or None,
            "querystring_auth": env_bool("AWS_QUERYSTRING_AUTH", True),
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Serve media from Django itself (local storage only): fine for one machine, and the
# URL is what Cog containers fetch file inputs from.
SERVE_MEDIA = env_bool("VITRINE_SERVE_MEDIA", not AWS_STORAGE_BUCKET_NAME)

# Pluggable concerns: a short name or a dotted path to a class.
SEARCH_BACKENDS = {
    "database": "registry.search.database.DatabaseSearchBackend",
    "meilisearch": "registry.search.meili.MeilisearchBackend",
}
SEARCH_BACKEND = os.environ.get("SEARCH_BACKEND", "database")
MEILISEARCH_URL = os.environ.get("MEILISEARCH_URL", "")
MEILISEARCH_API_KEY = os.environ.get("MEILISEARCH_API_KEY", "")
MEILISEARCH_INDEX = os.environ.get("MEILISEARCH_INDEX", "vitrine-models")
MEILISEARCH_TIMEOUT = env_int("MEILISEARCH_TIMEOUT", 2)
# After the configured backend fails, search the database for this long before trying it
# again (so that a dead Meilisearch costs one timeout, not one per search).
SEARCH_RETRY_SECONDS = env_int("SEARCH_RETRY_SECONDS", 30)
# PostgreSQL text search configuration (stemming, stop words) of the database backend.
SEARCH_TEXT_CONFIG = os.environ.get("SEARCH_TEXT_CONFIG", "english")
# Facet counts are cached this long (0: not at all); any document change starts afresh.
SEARCH_FACETS_CACHE_SECONDS = env_int("SEARCH_FACETS_CACHE_SECONDS", 60)
# How often recent run counts ("trending") are recomputed while runs come in.
SEARCH_POPULARITY_REFRESH_SECONDS = env_int("SEARCH_POPULARITY_REFRESH_SECONDS", 600)
# Each web process keeps public models' schema lookups in memory, up to this many MiB, on
# PostgreSQL (registry/lookup_cache.py: emptied on every change that could matter); 0: off.
VITRINE_LOOKUP_CACHE_MB = env_int("VITRINE_LOOKUP_CACHE_MB", 64)

INFERENCE_BACKENDS = {
    "local": "registry.inference.local.LocalCogBackend",
    "cog-http": "registry.inference.cog_http.CogHttpBackend",
}
INFERENCE_BACKEND = os.environ.get("INFERENCE_BACKEND", "local")

_task_backends = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
_task_backend = os.environ.get("TASK_BACKEND", "database")
TASKS = {
    "default": {
        "BACKEND": _task_backends.get(_task_backend, _task_backend),
        "QUEUES": ["default", "builds", "predictions", "webhooks", "search"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["registry.api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "registry.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "registry.api.schema.VitrineAutoSchema",
    "EXCEPTION_HANDLER": "registry.api.errors.problem_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Limits are VITRINE_RATE_LIMITS (below); the client address of anonymous callers is
    # taken from X-Forwarded-For only behind this many trusted proxies.
    "DEFAULT_THROTTLE_CLASSES": ["registry.api.throttling.TokenRateThrottle"],
    "NUM_PROXIES": env_int("VITRINE_TRUSTED_PROXIES", 0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Vitrine API",
    "DESCRIPTION": (
        "Replicate-compatible HTTP API of Vitrine, a self-hosted registry for Cog models. "
        "Point the `replicate` client's `base_url` at this server's root."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["registry.api.search.openapi_without_query"],
}

# The cache (page and facet caches, rate-limit counters) is shared by every process of
# the deployment. CACHE_URL: `redis://host:6379/0` (or `rediss://`) for production;
# `file:///path` (the default, under VITRINE_DATA_DIR: the web process and the workers of
# `make run` see the same entries without a server, and without a query per request as a
# database cache would cost); `locmem://` for one process; `dummy://` for none.
CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL") or ""


def cache_from_url(url: str) -> dict[str, Any]:
    scheme, _, rest = url.partition("://")
    if scheme in ("redis", "rediss"):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if scheme == "file":
        return {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": rest or str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    if scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": rest}
    if scheme == "dummy":
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise ImproperlyConfigured(
        f"CACHE_URL {url!r}: use redis://, rediss://, file:///path, locmem:// or dummy://."
    )


CACHES = {"default": cache_from_url(CACHE_URL or f"file://{DATA_DIR / 'cache'}")}

# Rate limits per API token (per client address for anonymous callers): "N/period" with
# period s, min, h or day, optionally counted (`100/10s`), or "off". Replicate's own are
# 600 prediction creations and 3000 other requests a minute.


def env_rate(name: str, default: str) -> Rate | None:
    try:
        return parse_rate(os.environ.get(name, default))
    except ValueError as e:
        raise ImproperlyConfigured(f"{name}: {e}") from e


VITRINE_RATE_LIMITS = {
    "reads": env_rate("VITRINE_RATE_LIMIT_READS", "3000/min"),
    "writes": env_rate("VITRINE_RATE_LIMIT_WRITES", "600/min"),
    "anon": env_rate("VITRINE_RATE_LIMIT_ANON", "600/min"),
}

# Upload limits. Project archives are checked again when unpacked (see registry.archives).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("VITRINE_MAX_JSON_BYTES", 5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Running models -----------------------------------------------------------------------
# Where Cog servers reach this web server for webhooks, uploads and file inputs.
VITRINE_INTERNAL_URL = os.environ.get(
    "VITRINE_INTERNAL_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
)
VITRINE_COG_VERSION = os.environ.get("VITRINE_COG_VERSION", "0.23.1")
# Model virtualenvs, shared by versions with the same dependencies.
VITRINE_ENVS_DIR = Path(os.environ.get("VITRINE_ENVS_DIR", str(DATA_DIR / "envs")))
VITRINE_GPU = env_bool("VITRINE_GPU", False)
VITRINE_APT_INSTALL = env_bool("VITRINE_APT_INSTALL", False)
VITRINE_SCHEMA_TIMEOUT = env_int("VITRINE_SCHEMA_TIMEOUT", 120)
VITRINE_BOOT_TIMEOUT = env_int("VITRINE_BOOT_TIMEOUT", 300)
VITRINE_MAX_INSTANCES = env_int("VITRINE_MAX_INSTANCES", 4)
VITRINE_MAX_INSTANCES_PER_VERSION = env_int("VITRINE_MAX_INSTANCES_PER_VERSION", 1)
VITRINE_INSTANCE_IDLE_SECONDS = env_int("VITRINE_INSTANCE_IDLE_SECONDS", 300)
VITRINE_SUPERVISE_INTERVAL = env_float("VITRINE_SUPERVISE_INTERVAL", 1.0)
VITRINE_ORPHAN_SECONDS = env_int("VITRINE_ORPHAN_SECONDS", 15)
VITRINE_MAX_SOURCE_BYTES = env_int("VITRINE_MAX_SOURCE_BYTES", 200 * 1024 * 1024)
VITRINE_MAX_FILE_BYTES = env_int("VITRINE_MAX_FILE_BYTES", 100 * 1024 * 1024)
# A dispatched prediction that has heard nothing from Cog for this long is failed.
VITRINE_PREDICTION_TIMEOUT = env_int("VITRINE_PREDICTION_TIMEOUT", 3600)
# A claimed but unsent dispatch (the dispatcher died) is retried after this long.
VITRINE_DISPATCH_CLAIM_SECONDS = env_int("VITRINE_DISPATCH_CLAIM_SECONDS", 30)
# A build whose worker has not reported for this long is failed.
VITRINE_BUILD_STALE_SECONDS = env_int("VITRINE_BUILD_STALE_SECONDS", 120)
VITRINE_WEBHOOK_ALLOW_PRIVATE = env_bool("VITRINE_WEBHOOK_ALLOW_PRIVATE", False)
VITRINE_WEBHOOK_RETRIES = env_int("VITRINE_WEBHOOK_RETRIES", 6)
VITRINE_REAP_INTERVAL = env_float("VITRINE_REAP_INTERVAL", 5.0)
# `Prefer: wait` runs of versions whose runs usually take less than this many seconds are
# made with a synchronous call to a warm Cog server (0 turns the fast path off).
VITRINE_SYNC_DISPATCH_BELOW = env_float("VITRINE_SYNC_DISPATCH_BELOW", 1.0)
