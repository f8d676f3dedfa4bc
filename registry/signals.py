"""Every user gets an owner namespace, however the user was made (signup, admin, shell)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def ensure_owner(sender: type[Any], instance: Any, created: bool, raw: bool, **kwargs: Any) -> None:
    if created and not raw:
        from registry.services import owner_ensure_for_user

        owner_ensure_for_user(user=instance)


@receiver(post_save, sender="registry.Owner")
@receiver(post_save, sender="registry.MLModel")
@receiver(post_save, sender="registry.Version")
@receiver(post_delete, sender="registry.Owner")
@receiver(post_delete, sender="registry.MLModel")
@receiver(post_delete, sender="registry.Version")
def forget_cached_lookups(sender: type[Any], created: bool = False, **kwargs: Any) -> None:
    """A change made by this process reaches its own schema-lookup cache at commit, before
    the NOTIFY that tells the other processes (registry/lookup_cache.py) comes back."""
    if not created:
        from registry.lookup_cache import cache

        transaction.on_commit(cache.clear)
