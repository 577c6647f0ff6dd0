"""Create the demo superuser and an ordinary demo user, only when DEBUG is on."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create the demo superuser 'admin' and the ordinary user 'demo' (DEBUG only) "
        "and print their credentials."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("refusing to create a demo superuser with DEBUG off")
        self._user(
            "demo superuser",
            os.environ.get("DEMO_ADMIN_USER", "admin"),
            os.environ.get("DEMO_ADMIN_PASSWORD", "admin"),
            is_staff=True,
            is_superuser=True,
        )
        self._user(
            "demo user",
            os.environ.get("DEMO_USER", "demo"),
            os.environ.get("DEMO_USER_PASSWORD", "demo"),
        )

    def _user(self, role: str, username: str, password: str, **flags: bool) -> None:
        user, created = get_user_model().objects.get_or_create(username=username, defaults=flags)
        if created:
            user.set_password(password)
            user.save()
        verb = "Created" if created else "Existing"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {role}: {username} / ")
            + (password if created else "(unchanged password)")
        )
