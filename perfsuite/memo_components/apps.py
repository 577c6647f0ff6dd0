from __future__ import annotations

from django.apps import AppConfig

from . import conf  # noqa: F401  (declares this app's PERFSUITE keys)


class MemoComponentsConfig(AppConfig):
    name = "perfsuite.memo_components"
    label = "perfsuite_memo_components"
    verbose_name = "Memoized components"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from perfsuite.core.checks import register_checks
        from perfsuite.core.panels import register

        from . import invalidation
        from .checks import CHECKS
        from .lru import register_clearable
        from .panels import ComponentsPanel

        register_checks(self.name, *CHECKS)
        register(ComponentsPanel())  # shown on Admin -> Performance
        register_clearable()  # the render LRU, shrinkable by the memory app
        invalidation.connect()  # saves and deletes drop the renders that show them
        # every installed app's components.py: their components are registered by
        # name before a template naming them is compiled
        autodiscover_modules("components")
