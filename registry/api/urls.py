"""Routes of the `/v1/` API."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from registry.api import search, views

urlpatterns = [
    path("models", views.ModelListView.as_view(), name="models"),
    path("models/<str:owner>/<str:name>", views.ModelDetailView.as_view(), name="model"),
    path(
        "models/<str:owner>/<str:name>/readme", views.ModelReadmeView.as_view(), name="model-readme"
    ),
    path(
        "models/<str:owner>/<str:name>/examples",
        views.ModelExamplesView.as_view(),
        name="model-examples",
    ),
    path(
        "models/<str:owner>/<str:name>/versions",
        views.VersionListView.as_view(),
        name="model-versions",
    ),
    path(
        "models/<str:owner>/<str:name>/versions/<str:version_id>",
        views.VersionDetailView.as_view(),
        name="model-version",
    ),
    path("collections", views.CollectionListView.as_view(), name="collections"),
    path("collections/<str:slug>", views.CollectionDetailView.as_view(), name="collection"),
    path("hardware", views.HardwareListView.as_view(), name="hardware"),
    path("search", search.SearchView.as_view(), name="search"),
    path("account", views.AccountView.as_view(), name="account"),
    path("webhooks/default/secret", views.WebhookSecretView.as_view(), name="webhook-secret"),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("docs", SpectacularSwaggerView.as_view(url_name="api:openapi"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="api:openapi"), name="redoc"),
]
