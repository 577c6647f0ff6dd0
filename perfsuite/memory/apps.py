from __future__ import annotations

from django.apps import AppConfig


class MemoryConfig(AppConfig):
    name = "perfsuite.memory"
    label = "perfsuite_memory"
    verbose_name = "Memory management"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core.checks import register_checks

        register_checks()
