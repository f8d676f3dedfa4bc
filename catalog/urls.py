from __future__ import annotations

from django.urls import path

from catalog import views

urlpatterns = [
    path("", views.explore, name="explore"),
]
