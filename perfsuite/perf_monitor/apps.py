from __future__ import annotations

from django.apps import AppConfig

from . import conf  # noqa: F401  (declares this app's PERFSUITE keys)


class PerfMonitorConfig(AppConfig):
    name = "perfsuite.perf_monitor"
    label = "perfsuite_perf_monitor"
    verbose_name = "Performance monitor"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core.checks import register_checks

        from .checks import CHECKS
        from .front import register_front

        register_checks(self.name, *CHECKS)
        register_front()  # requests answered at the front door are counted too
