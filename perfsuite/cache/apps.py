from __future__ import annotations

from django.apps import AppConfig

from . import conf  # noqa: F401  (declares this app's PERFSUITE keys)


class CacheConfig(AppConfig):
    name = "perfsuite.cache"
    label = "perfsuite_cache"
    verbose_name = "Response cache"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core.checks import register_checks
        from perfsuite.core.panels import register

        from .checks import CHECKS
        from .front import register_front
        from .keys import register_clearable
        from .panels import CachePanel

        register_checks(self.name, *CHECKS)
        register(CachePanel())
        register_clearable()
        register_front()  # anonymous hits before Django's handler, once wrapped
