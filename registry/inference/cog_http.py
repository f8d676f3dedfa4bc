"""cog-http backend: versions served by Cog servers already running at URLs."""

from __future__ import annotations

from registry.backends import Health
from registry.inference.base import InferenceBackend


class CogHttpBackend(InferenceBackend):
    name = "cog-http"

    def health(self) -> Health:
        return Health("ok", info={"backend": self.name})
