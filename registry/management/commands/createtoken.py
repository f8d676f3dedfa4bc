"""`python manage.py createtoken USERNAME [--name NAME]`: print a new API token for a user.

Creates the user (and their owner namespace) if missing, so scripts can get a token in
one step.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry import services
from registry.errors import VitrineError


class Command(BaseCommand):
    help = "Print a new API token for USERNAME, creating the user if needed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="createtoken", help="A label for the token.")
        parser.add_argument("--staff", action="store_true", help="Make a new user staff.")

    def handle(self, *args: Any, username: str, name: str, staff: bool, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            try:
                user = services.user_create(username=username, is_staff=staff)
            except VitrineError as e:
                raise CommandError(e.detail) from e
            self.stderr.write(f"Created user {username}.")
        _, plaintext = services.token_create(user=user, name=name)
        self.stdout.write(plaintext)
