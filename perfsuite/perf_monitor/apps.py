from __future__ import annotations

from django.apps import AppConfig


class PerfMonitorConfig(AppConfig):
    name = "perfsuite.perf_monitor"
    label = "perfsuite_perf_monitor"
    verbose_name = "Performance monitor"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core import checks  # noqa: F401  (registers the settings checks)
