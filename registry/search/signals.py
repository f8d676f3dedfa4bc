"""The one change services cannot report: a model deleted, also by cascade (an owner or
user deleted in the admin). Its database row goes by cascade; an external index is told
by the `search` task."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from registry.models import MLModel
from registry.search import sync


@receiver(post_delete, sender=MLModel)
def model_deleted(sender: type[MLModel], instance: MLModel, **kwargs: Any) -> None:
    sync.model_removed(instance.pk)
