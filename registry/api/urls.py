"""Routes of the `/v1/` API."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from registry.api import builds, files, predictions, search, views

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
    path(
        "models/<str:owner>/<str:name>/predictions",
        predictions.ModelPredictionCreateView.as_view(),
        name="model-predictions",
    ),
    path(
        "models/<str:owner>/<str:name>/builds",
        builds.ModelBuildListView.as_view(),
        name="model-builds",
    ),
    path("predictions", predictions.PredictionListView.as_view(), name="predictions"),
    path(
        "predictions/<str:prediction_id>",
        predictions.PredictionDetailView.as_view(),
        name="prediction",
    ),
    path(
        "predictions/<str:prediction_id>/cancel",
        predictions.PredictionCancelView.as_view(),
        name="prediction-cancel",
    ),
    path(
        "predictions/<str:prediction_id>/stream", predictions.stream_view, name="prediction-stream"
    ),
    path("builds/<str:build_id>", builds.BuildDetailView.as_view(), name="build"),
    path("builds/<str:build_id>/stream", builds.BuildStreamView.as_view(), name="build-stream"),
    path("files", files.FileListView.as_view(), name="files"),
    path("files/<str:file_id>", files.FileDetailView.as_view(), name="file"),
    path("files/<str:file_id>/download", files.file_download, name="file-download"),
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
