"""Web pages of the catalog."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from registry import selectors


def explore(request: HttpRequest) -> HttpResponse:
    models = selectors.model_list(user=request.user)[:48]
    return render(request, "catalog/explore.html", {"models": models})


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
