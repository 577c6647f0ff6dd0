"""Create the demo superuser, only when DEBUG is on, and print its credentials."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the demo superuser 'admin' (DEBUG only) and print its credentials."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("refusing to create a demo superuser with DEBUG off")
        username = os.environ.get("DEMO_ADMIN_USER", "admin")
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "admin")
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(password)
            user.save()
        verb = "Created" if created else "Existing"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} demo superuser: {username} / ")
            + (password if created else "(unchanged password)")
        )
