"""Changes services cannot report: a model deleted, also by cascade (an owner or user
deleted in the admin) — its database row goes by cascade, an external index is told by the
`search` task — and tags or collection memberships changed by any write path."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from registry.models import CollectionItem, MLModel
from registry.search import sync


@receiver(post_delete, sender=MLModel)
def model_deleted(sender: type[MLModel], instance: MLModel, **kwargs: Any) -> None:
    sync.model_removed(instance.pk)


@receiver(m2m_changed, sender=MLModel.tags.through)
def tags_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kw: Any
) -> None:
    """Tags added or removed by any path (services, the admin, a shell)."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if reverse:  # tag.models.add(...): the models are in pk_set
        if pk_set:
            sync.index_models(pk_set)
    else:
        sync.index_model(instance.pk)


@receiver(post_save, sender=CollectionItem)
@receiver(post_delete, sender=CollectionItem)
def collection_membership_changed(
    sender: Any, instance: CollectionItem, raw: bool = False, **kw: Any
) -> None:
    if not raw and MLModel.objects.filter(pk=instance.model_id).exists():
        sync.index_model(instance.model_id)
