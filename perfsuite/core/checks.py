"""System checks for the ``PERFSUITE`` setting (ids ``perfsuite.E0xx``), and the
helpers every app's checks share.

Each app registers its checks from ``AppConfig.ready()`` through
:func:`register_checks`, which also registers the settings check (Django keeps
one registration per function): a check of an app that is not installed never
runs, so no check needs an ``is_installed`` guard. Ids are documented in
``docs/checks.md``.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.utils.module_loading import import_string

from .conf import known_options, validation_errors

CheckFunction = Callable[..., list[CheckMessage]]


def register_checks(app: str | None = None, *app_checks: CheckFunction) -> None:
    """Register the settings check and app ``app``'s own checks (call from ``ready()``).

    The app's checks run while ``app`` is installed (a test may take it out of
    ``INSTALLED_APPS`` after start-up): that one guard lives here, not in each check.
    """
    register(check_perfsuite_settings, Tags.compatibility)
    for check in app_checks:
        register(_while_installed(app, check), Tags.compatibility)


_wrapped: dict[CheckFunction, CheckFunction] = {}


def _while_installed(app: str | None, check: CheckFunction) -> CheckFunction:
    known = _wrapped.get(check)
    if known is not None:
        return known  # one registration per check, however often ready() runs

    @functools.wraps(check)
    def wrapped(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
        if app is not None and not apps.is_installed(app):
            return []
        return check(app_configs, **kwargs)

    _wrapped[check] = wrapped
    return wrapped


def middleware() -> list[str]:
    """``MIDDLEWARE`` as dotted paths (an empty list when unset)."""
    return [str(m) for m in (getattr(settings, "MIDDLEWARE", None) or [])]


def position(name: str, stack: list[str]) -> int | None:
    """Where ``name`` sits in ``stack``, or None."""
    try:
        return stack.index(name)
    except ValueError:
        return None


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
                    id="perfsuite.E005",
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
    elif store == "sqlite" and not user.get("SQLITE_PATH"):
        errors.append(
            Error(
                "PERFSUITE['STORE'] is 'sqlite' but PERFSUITE['SQLITE_PATH'] is not set.",
                hint="Set PERFSUITE['SQLITE_PATH'] = BASE_DIR / 'var' / 'metrics.sqlite3'.",
                id="perfsuite.E007",
            )
        )
    elif isinstance(store, str) and store not in ("local", "redis", "sqlite"):
        try:
            import_string(store)
        except ImportError as exc:
            errors.append(
                Error(
                    f"PERFSUITE['STORE'] = {store!r} cannot be imported: {exc}.",
                    hint="Use 'local', 'sqlite', 'redis' or the dotted path of a Store subclass.",
                    id="perfsuite.E006",
                )
            )
    return errors


def registered_by_installed_app(module: str) -> bool:
    """Whether a registration made by ``module`` should be judged by a check: yes for
    an installed app's module and for a module outside any app (a project's urls.py);
    no for the module of an app that was imported but is not installed
    (INSTALLED_APPS changed in a test, a script importing another project's app)."""
    if not module or apps.get_containing_app_config(module) is not None:
        return True
    return _app_package(module) is None


@functools.lru_cache(maxsize=256)
def _app_package(module: str) -> str | None:
    """The package of ``module`` that is a Django app (it has an apps.py), if any."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        package = ".".join(parts[:end])
        try:
            if importlib.util.find_spec(package + ".apps") is not None:
                return package
        except (ImportError, ValueError):  # a module, not a package
            continue
    return None
