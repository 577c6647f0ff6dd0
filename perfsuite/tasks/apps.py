from __future__ import annotations

from django.apps import AppConfig

from . import conf  # noqa: F401  (declares this app's PERFSUITE keys)


class TasksConfig(AppConfig):
    name = "perfsuite.tasks"
    label = "perfsuite_tasks"
    verbose_name = "Background tasks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core.checks import register_checks
        from perfsuite.core.panels import register

        from . import signals
        from .checks import CHECKS
        from .panels import TasksPanel
        from .task_types import register_task_types

        register_checks(self.name, *CHECKS)
        register(TasksPanel())  # shown on Admin -> Performance
        signals.connect()  # task metrics from Celery's signals
        register_task_types()  # send_email, process_image, ... on task_processor
        # the Celery tasks of the outbox relay and of the django.tasks backend
        from . import django_tasks, outbox  # noqa: F401
