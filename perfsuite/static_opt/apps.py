from __future__ import annotations

from django.apps import AppConfig

from . import conf  # noqa: F401  (declares this app's PERFSUITE keys)


class StaticOptConfig(AppConfig):
    name = "perfsuite.static_opt"
    label = "perfsuite_static_opt"
    verbose_name = "Static files"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core import (
            checks,  # noqa: F401  (registers the settings checks)
            panels,
        )

        from . import checks as app_checks  # noqa: F401
        from .panels import StaticFilesPanel

        panels.register(StaticFilesPanel())
