"""``manage.py perfreset``: clear the metrics store (every process's view)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from perfsuite.core import metrics


class Command(BaseCommand):
    help = "Clear every recorded metric in the configured store."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            metrics.registry.reset()
        except Exception as exc:
            raise CommandError(f"cannot reset the metrics store: {exc}") from exc
        self.stdout.write(self.style.SUCCESS("Metrics store cleared."))
