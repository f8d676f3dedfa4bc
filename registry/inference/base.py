"""The inference backend interface."""

from __future__ import annotations

import abc

from registry.backends import Health


class InferenceBackend(abc.ABC):
    name: str = ""

    @abc.abstractmethod
    def health(self) -> Health: ...
