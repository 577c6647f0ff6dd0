from __future__ import annotations

from django.apps import AppConfig


class QueryOptConfig(AppConfig):
    name = "perfsuite.query_opt"
    label = "perfsuite_query_opt"
    verbose_name = "Query optimisation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core.checks import register_checks

        register_checks()
