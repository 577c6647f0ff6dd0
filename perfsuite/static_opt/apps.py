from __future__ import annotations

from django.apps import AppConfig


class StaticOptConfig(AppConfig):
    name = "perfsuite.static_opt"
    label = "perfsuite_static_opt"
    verbose_name = "Static files"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core import checks  # noqa: F401  (registers the settings checks)
