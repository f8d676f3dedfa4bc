"""Root URLs: the API under /v1/, /healthz, the admin, media, and the catalog pages."""

from __future__ import annotations

import sys

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views.static import serve

from registry import health, internal_views
from registry.api.errors import (
    api_bad_request,
    api_database_unavailable,
    api_not_found,
    api_server_error,
)
from registry.errors import database_unavailable

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("v1/", include(("registry.api.urls", "api"), namespace="api")),
    re_path(r"^v1(?:/.*)?$", api_not_found),
    path("admin/", admin.site.urls),
    path(
        "internal/cog/predictions/<str:prediction_id>",
        internal_views.cog_webhook,
        name="cog-webhook",
    ),
    path(
        "internal/cog/uploads/<str:instance_id>/<str:signature>/<path:filename>",
        internal_views.cog_upload,
        name="cog-upload",
    ),
]
if settings.SERVE_MEDIA:
    urlpatterns.append(
        re_path(
            rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    )
urlpatterns.append(path("", include(("catalog.urls", "catalog"), namespace="catalog")))


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/v1/"):
        return api_bad_request(request, exception)
    from django.views.defaults import bad_request

    return bad_request(request, exception)  # type: ignore[arg-type]


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/v1/"):
        return api_not_found(request)
    from catalog.views import page_not_found

    return page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception: a lost database is a 503, not a bug.
    unavailable = database_unavailable(sys.exc_info()[1])
    if request.path.startswith("/v1/"):
        return api_database_unavailable(request) if unavailable else api_server_error(request)
    from catalog.views import server_error, service_unavailable

    return service_unavailable(request) if unavailable else server_error(request)
