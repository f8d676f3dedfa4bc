"""Every user gets an owner namespace, however the user was made (signup, admin, shell)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def ensure_owner(sender: type[Any], instance: Any, created: bool, raw: bool, **kwargs: Any) -> None:
    if created and not raw:
        from registry.services import owner_ensure_for_user

        owner_ensure_for_user(user=instance)
