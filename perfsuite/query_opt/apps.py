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

        from .checks import CHECKS
        from .instrumentation import install_everywhere
        from .panels import QueryPanel
        from .pool import install as install_pool_sampler
        from .pool_panel import PoolPanel

        register_checks(self.name, *CHECKS)
        register(QueryPanel())
        register(PoolPanel())  # shown on Admin -> Performance
        install_pool_sampler()  # reads the pools once one is in use, never per request
        install_everywhere()  # connections opened later get it as they connect
