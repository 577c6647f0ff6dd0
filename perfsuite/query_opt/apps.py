from __future__ import annotations

from django.apps import AppConfig

from . import conf  # noqa: F401  (declares this app's PERFSUITE keys)


class QueryOptConfig(AppConfig):
    name = "perfsuite.query_opt"
    label = "perfsuite_query_opt"
    verbose_name = "Query optimisation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core.checks import register_checks
        from perfsuite.core.panels import register

        from .instrumentation import install_everywhere
        from .panels import QueryPanel

        register_checks()
        register(QueryPanel())
        install_everywhere()  # connections opened later get it as they connect
