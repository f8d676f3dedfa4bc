"""cog-http backend: versions served by Cog servers already running elsewhere
(`docker run -p 5000:5000 image`, a Kubernetes service), registered by URL.

It cannot build from source (there is no Docker engine to build images with); authors
register the URL of a running server instead.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from django.db import close_old_connections
from django.utils import timezone

from registry.backends import Health
from registry.cogconfig import CogConfig
from registry.inference.base import BuildFailed, BuiltVersion, InferenceBackend, Log
from registry.inference.cog_client import CogClient, CogError
from registry.models import Instance

logger = logging.getLogger(__name__)


class CogHttpBackend(InferenceBackend):
    name = "cog-http"

    def build_source(self, *, project: Path, config: CogConfig, log: Log) -> BuiltVersion:
        raise BuildFailed(
            "This Vitrine runs models on Cog servers started elsewhere (INFERENCE_BACKEND="
            "cog-http) and cannot build from source. Build the image with `cog build`, run it, "
            'and register it with {"cog_url": "http://host:5000"} (vitrine push --url).'
        )

    URL_CHECK_SECONDS = 10.0
    _last_url_check = 0.0

    def start_supervisor(self) -> None:
        if getattr(self, "_url_thread", None) is None:
            self._url_thread = threading.Thread(
                target=self._check_forever, daemon=True, name="cog-urls"
            )
            self._url_thread.start()

    def _check_forever(self) -> None:
        while True:
            time.sleep(self.URL_CHECK_SECONDS)
            try:
                self.supervise()
            except Exception:
                logger.exception("Checking Cog servers failed")
            finally:
                close_old_connections()

    def supervise(self) -> None:
        """Mark URL instances down when they stop answering, and up when they answer again."""
        if time.monotonic() - self._last_url_check < self.URL_CHECK_SECONDS:
            return
        self._last_url_check = time.monotonic()
        for instance in Instance.objects.filter(kind=Instance.Kind.URL).exclude(
            status=Instance.Status.STOPPED
        ):
            try:
                ready = CogClient(instance.url).health(timeout=2).ready
                error = "" if ready else "not ready"
            except CogError as e:
                ready, error = False, str(e)
            status = Instance.Status.READY if ready else Instance.Status.FAILED
            if status != instance.status:
                Instance.objects.filter(pk=instance.pk).update(
                    status=status, error=error, heartbeat_at=timezone.now()
                )

    def health(self) -> Health:
        urls = Instance.objects.filter(kind=Instance.Kind.URL).exclude(
            status=Instance.Status.STOPPED
        )
        down = urls.filter(status=Instance.Status.FAILED).count()
        info = {"backend": self.name, "cog_servers": urls.count(), "cog_servers_down": down}
        if down:
            return Health("degraded", f"{down} registered Cog server(s) do not answer.", info)
        return Health("ok", info=info)
