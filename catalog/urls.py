"""Routes of the web pages. Fixed paths come first: owner names that would shadow them
are reserved (`registry.validators.RESERVED_OWNER_NAMES`)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from catalog import views

urlpatterns = [
    path("", views.explore, name="explore"),
    path("models", views.search, name="models"),
    path("search", views.search, name="search"),
    path("collections/<slug:slug>", views.collection, name="collection"),
    path("new", views.model_new, name="model-new"),
    path("p/<str:prediction_id>", views.prediction, name="prediction"),
    path("p/<str:prediction_id>/status", views.prediction_status, name="prediction-status"),
    path("p/<str:prediction_id>/cancel", views.prediction_cancel, name="prediction-cancel"),
    path("p/<str:prediction_id>/share", views.prediction_share, name="prediction-share"),
    path("p/<str:prediction_id>/example", views.prediction_example, name="prediction-example"),
    path("signup", views.signup, name="signup"),
    path(
        "login",
        auth_views.LoginView.as_view(
            template_name="catalog/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    path("account/tokens", views.tokens, name="tokens"),
    path("account/tokens/<int:token_id>/revoke", views.token_revoke, name="token-revoke"),
    path("<str:owner>", views.owner, name="owner"),
    path("<str:owner>/<str:name>", views.model_playground, name="model"),
    path("<str:owner>/<str:name>/examples", views.model_examples, name="model-examples"),
    path("<str:owner>/<str:name>/readme", views.model_readme, name="model-readme"),
    path("<str:owner>/<str:name>/api", views.model_api, name="model-api"),
    path("<str:owner>/<str:name>/versions", views.model_versions, name="model-versions"),
    # Before versions/<id>: "new" is never a version id (those are 64 hex digits).
    path("<str:owner>/<str:name>/versions/new", views.version_new, name="version-new"),
    path(
        "<str:owner>/<str:name>/versions/<str:version_id>",
        views.model_version,
        name="model-version",
    ),
    path("<str:owner>/<str:name>/builds/<str:build_id>", views.build, name="build"),
    path(
        "<str:owner>/<str:name>/builds/<str:build_id>/status",
        views.build_status,
        name="build-status",
    ),
]
