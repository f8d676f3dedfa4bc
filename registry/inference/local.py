"""Local backend: versions run as Cog runtime (coglet) processes in uv-built virtualenvs."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from django.conf import settings

from registry.backends import Health
from registry.inference.base import InferenceBackend


def uv_executable() -> str | None:
    sibling = Path(sys.executable).with_name("uv")
    if sibling.exists():
        return str(sibling)
    return shutil.which("uv")


class LocalCogBackend(InferenceBackend):
    name = "local"

    def health(self) -> Health:
        uv = uv_executable()
        if uv is None:
            return Health("down", "uv is not installed; versions cannot be built.")
        data_dir = Path(settings.DATA_DIR)
        data_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(data_dir, os.W_OK):
            return Health("down", f"{data_dir} is not writable.")
        return Health("ok", info={"backend": self.name})
