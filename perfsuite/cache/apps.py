from __future__ import annotations

from django.apps import AppConfig


class CacheConfig(AppConfig):
    name = "perfsuite.cache"
    label = "perfsuite_cache"
    verbose_name = "Response cache"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core import checks  # noqa: F401  (registers the settings checks)
