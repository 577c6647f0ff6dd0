from __future__ import annotations

from django.apps import AppConfig

from . import conf  # noqa: F401  (declares this app's PERFSUITE keys)


class StaticOptConfig(AppConfig):
    name = "perfsuite.static_opt"
    label = "perfsuite_static_opt"
    verbose_name = "Static files"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core.checks import register_checks
        from perfsuite.core.panels import register

        from .checks import CHECKS
        from .front import register_front
        from .panels import StaticFilesPanel

        register_checks(self.name, *CHECKS)
        register(StaticFilesPanel())
        register_front()  # static files before Django's handler, once wrapped
