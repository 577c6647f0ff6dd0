"""Memory monitoring and cleanup, per process."""

from __future__ import annotations

from django.apps import AppConfig

from . import conf  # noqa: F401  (declares this app's PERFSUITE keys)


class MemoryConfig(AppConfig):
    name = "perfsuite.memory"
    label = "perfsuite_memory"
    verbose_name = "Memory management"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core.checks import register_checks
        from perfsuite.core.panels import register

        from .checks import CHECKS
        from .panels import MemoryPanel

        register_checks(self.name, *CHECKS)
        register(MemoryPanel())  # shown on Admin -> Performance
