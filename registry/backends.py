"""Loading of the pluggable backends named in settings (a short name or a dotted path)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.utils.module_loading import import_string

HealthState = Literal["ok", "degraded", "down"]


@dataclass(frozen=True)
class Health:
    """The state of one part of the system, as `/healthz` reports it."""

    status: HealthState
    detail: str = ""
    info: dict[str, Any] = field(default_factory=dict)


def resolve(choice: str, known: dict[str, str]) -> str:
    return known.get(choice, choice)


_instances: dict[str, Any] = {}
_instances_lock = threading.Lock()


def _instantiate(dotted_path: str) -> Any:
    with _instances_lock:
        if dotted_path not in _instances:
            _instances[dotted_path] = import_string(dotted_path)()
        return _instances[dotted_path]


def search_backend() -> Any:
    from registry.search.base import SearchBackend

    backend = _instantiate(resolve(settings.SEARCH_BACKEND, settings.SEARCH_BACKENDS))
    assert isinstance(backend, SearchBackend)
    return backend


def inference_backend() -> Any:
    from registry.inference.base import InferenceBackend

    backend = _instantiate(resolve(settings.INFERENCE_BACKEND, settings.INFERENCE_BACKENDS))
    assert isinstance(backend, InferenceBackend)
    return backend


def reset() -> None:
    """Stop what the instantiated backends run and forget them (tests call this)."""
    with _instances_lock:
        instances = list(_instances.values())
        _instances.clear()
    for backend in instances:
        stop = getattr(backend, "stop_all", None)
        if stop is not None:
            stop()
