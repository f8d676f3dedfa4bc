"""Vitrine's routes plus `GET /v1/_ping`, the baseline of the API figures.

The ping goes through everything an API answer does — gunicorn, the middleware, DRF's
request, authentication, content negotiation and JSON renderer — and touches no database,
so "x times the ping" is what a view's own work costs. It exists only in the benchmark
stack (`bench.settings`), never in the public API or its OpenAPI document.
"""

from __future__ import annotations

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.urls import handler404, handler500
from registry.urls import urlpatterns as vitrine_urlpatterns


class PingView(APIView):
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


urlpatterns = [path("v1/_ping", PingView.as_view(), name="bench-ping"), *vitrine_urlpatterns]

__all__ = ["handler404", "handler500", "urlpatterns"]
