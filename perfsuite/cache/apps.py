from __future__ import annotations

from django.apps import AppConfig

from . import conf  # noqa: F401  (declares this app's PERFSUITE keys)


class CacheConfig(AppConfig):
    name = "perfsuite.cache"
    label = "perfsuite_cache"
    verbose_name = "Response cache"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core import checks  # noqa: F401  (registers the settings checks)
        from perfsuite.core.panels import register

        from . import checks as app_checks  # noqa: F401
        from .panels import CachePanel

        register(CachePanel())
