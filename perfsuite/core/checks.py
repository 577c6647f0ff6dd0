"""System checks for the ``PERFSUITE`` setting (ids ``perfsuite.E0xx``).

Imported by every app's ``AppConfig.ready()``; Django registers a check function
once however often it is imported. Ids are documented in ``docs/checks.md``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.utils.module_loading import import_string

from .conf import known_options, validation_errors


@register(Tags.compatibility)
def check_perfsuite_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    user = getattr(settings, "PERFSUITE", None)
    if user is None:
        return []
    if not isinstance(user, dict):
        return [
            Error(
                "PERFSUITE must be a dict.",
                hint="Set PERFSUITE = {'STORE': 'local', ...} or remove it.",
                id="perfsuite.E001",
            )
        ]
    errors: list[CheckMessage] = []
    for key, message in validation_errors(user):
        if key not in known_options():
            errors.append(
                Error(
                    f"PERFSUITE[{key!r}] is not a known setting.",
                    hint="Known keys: " + ", ".join(sorted(known_options())),
                    id="perfsuite.E001",
                )
            )
        else:
            errors.append(
                Error(
                    f"PERFSUITE[{key!r}] {message} (got {user[key]!r}).",
                    hint=f"The default is {known_options()[key].default!r}.",
                    id="perfsuite.E002",
                )
            )
    store = user.get("STORE", "local")
    if any(key == "STORE" for key, _ in validation_errors(user)):
        return errors
    if store == "redis" and not user.get("REDIS_URL"):
        errors.append(
            Error(
                "PERFSUITE['STORE'] is 'redis' but PERFSUITE['REDIS_URL'] is not set.",
                hint="Set PERFSUITE['REDIS_URL'] = 'redis://127.0.0.1:6379/0'.",
                id="perfsuite.E003",
            )
        )
    elif store == "redis":
        try:
            import redis  # noqa: F401
        except ImportError:
            errors.append(
                Error(
                    "PERFSUITE['STORE'] is 'redis' but the redis package is not installed.",
                    hint="pip install 'django-perfsuite[redis]'",
                    id="perfsuite.E004",
                )
            )
    elif isinstance(store, str) and store not in ("local", "redis"):
        try:
            import_string(store)
        except ImportError as exc:
            errors.append(
                Error(
                    f"PERFSUITE['STORE'] = {store!r} cannot be imported: {exc}.",
                    hint="Use 'local', 'redis' or the dotted path of a Store subclass.",
                    id="perfsuite.E004",
                )
            )
    return errors
