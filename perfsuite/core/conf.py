"""The one ``PERFSUITE`` setting, read through a lazy object.

``perf_settings.FLUSH_INTERVAL`` returns the user's value merged over the
documented default. The merged dict is rebuilt on ``setting_changed`` so
``override_settings(PERFSUITE=...)`` works in tests. Nothing here reads settings
at import time.

Apps add their own keys with :func:`register_defaults` (at import time of their
``conf`` module); an unknown key is reported by system check ``perfsuite.E005``.

A value that fails validation is reported by a system check; at run time (where
checks may never have run, e.g. under gunicorn) the default is used instead and a
warning is logged once, so a bad setting never crashes a request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from .validators import (
    Validator,
    boolean,
    non_empty_str,
    optional_path,
    optional_str,
    positive_int,
    positive_number,
)

logger = logging.getLogger("perfsuite")


@dataclass(frozen=True)
class Option:
    default: Any
    validate: Validator | None = None
    doc: str = ""


def _redis_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("redis://", "rediss://", "unix://")):
        return "must be None or a redis://, rediss:// or unix:// URL"
    return None


def _valid_store(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be 'local', 'sqlite', 'redis' or a dotted path to a Store class"
    return None


def _accuracy(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, float | int) or not 0 < value < 0.5:
        return "must be a number between 0 and 0.5 (0.01 means 1 %)"
    return None


_OPTIONS: dict[str, Option] = {
    "STORE": Option(
        "local", _valid_store, "Where metrics go: 'local', 'sqlite', 'redis' or a dotted path."
    ),
    "SQLITE_PATH": Option(
        None, optional_path, "The SQLite file of the metrics store (STORE='sqlite')."
    ),
    "REDIS_URL": Option(None, _redis_url, "Redis URL of the metrics store (STORE='redis')."),
    "KEY_PREFIX": Option("perfsuite", non_empty_str, "Prefix of every Redis key."),
    "FLUSH_INTERVAL": Option(1.0, positive_number, "Seconds between flushes to the store."),
    "BUCKET_TTL": Option(86400, positive_int, "Seconds a per-minute bucket is kept."),
    "MAX_SERIES_PER_METRIC": Option(500, positive_int, "Label sets per metric before 'other'."),
    "MAX_BUFFERED_SERIES": Option(50000, positive_int, "Series deltas buffered in an outage."),
    "HISTOGRAM_RELATIVE_ACCURACY": Option(0.01, _accuracy, "Relative error of percentiles."),
    "REDIS_SOCKET_TIMEOUT": Option(0.5, positive_number, "Seconds before a Redis call fails."),
    "GAUGE_STALE_AFTER": Option(120, positive_number, "Seconds before a process's gauge expires."),
    "SPOOL": Option(
        True,
        boolean,
        "With the Redis store, journal unflushed observations in a memory-mapped file "
        "so a SIGKILLed worker's last second is recovered by the others.",
    ),
    "SPOOL_DIR": Option(
        None, optional_str, "Folder of the journals (default: /dev/shm/perfsuite-spool-<id>)."
    ),
}


def register_defaults(options: dict[str, Option]) -> None:
    """Let an app declare its own ``PERFSUITE`` keys (at import time of its conf)."""
    for key, option in options.items():
        existing = _OPTIONS.get(key)
        if existing is not None and existing != option:
            raise ValueError(f"PERFSUITE key {key!r} is declared twice with different options")
        _OPTIONS[key] = option
    perf_settings.reload()


def known_options() -> dict[str, Option]:
    return dict(_OPTIONS)


def validation_errors(user: Any) -> list[tuple[str, str]]:
    """Return ``(key, message)`` pairs for every problem in a ``PERFSUITE`` value."""
    if user is None:
        return []
    if not isinstance(user, dict):
        return [("", "PERFSUITE must be a dict")]
    errors = []
    for key, value in user.items():
        option = _OPTIONS.get(key)
        if option is None:
            errors.append((key, "is not a known setting"))
            continue
        if option.validate is not None:
            message = option.validate(value)
            if message:
                errors.append((key, message))
    return errors


class PerfSettings:
    """Attribute access to the merged ``PERFSUITE`` dict."""

    def __init__(self) -> None:
        self._merged: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def _load(self) -> dict[str, Any]:
        from django.conf import settings

        user = getattr(settings, "PERFSUITE", None)
        merged = {key: option.default for key, option in _OPTIONS.items()}
        if isinstance(user, dict):
            bad = dict(validation_errors(user))
            for key, value in user.items():
                if key in bad:
                    if key in _OPTIONS:
                        logger.warning(
                            "PERFSUITE[%r] %s; using the default %r (see `manage.py check`)",
                            key,
                            bad[key],
                            _OPTIONS[key].default,
                        )
                    continue
                merged[key] = value
        elif user is not None:
            logger.warning("PERFSUITE must be a dict; using the defaults")
        return merged

    def as_dict(self) -> dict[str, Any]:
        merged = self._merged
        if merged is None:
            with self._lock:
                merged = self._merged
                if merged is None:
                    merged = self._merged = self._load()
        return merged

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.as_dict()[name]
        except KeyError:
            raise AttributeError(f"PERFSUITE has no setting {name!r}") from None

    def reload(self) -> None:
        self._merged = None
        for listener in list(self._listeners):
            listener()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever ``PERFSUITE`` changes (dotted-path caches etc.)."""
        self._listeners.append(listener)


perf_settings = PerfSettings()


@receiver(setting_changed)
def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "PERFSUITE":
        perf_settings.reload()
