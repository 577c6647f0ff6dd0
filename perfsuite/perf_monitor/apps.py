from __future__ import annotations

from django.apps import AppConfig

from . import conf  # noqa: F401  (declares this app's PERFSUITE keys)


class PerfMonitorConfig(AppConfig):
    name = "perfsuite.perf_monitor"
    label = "perfsuite_perf_monitor"
    verbose_name = "Performance monitor"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core import checks  # noqa: F401  (registers the settings checks)

        from . import checks as app_checks  # noqa: F401
