from __future__ import annotations

from django.apps import AppConfig


class MemoComponentsConfig(AppConfig):
    name = "perfsuite.memo_components"
    label = "perfsuite_memo_components"
    verbose_name = "Memoized components"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsuite.core.checks import register_checks

        register_checks()
