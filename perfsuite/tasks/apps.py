from __future__ import annotations

from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "perfsuite.tasks"
    label = "perfsuite_tasks"
    verbose_name = "Background tasks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core.checks import register_checks

        register_checks()
