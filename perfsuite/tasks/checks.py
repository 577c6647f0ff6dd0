"""Checks of the tasks app (ids ``perfsuite.W7xx``, docs/checks.md).

Celery settings are read from Django's settings under the ``CELERY_`` namespace
(``app.config_from_object("django.conf:settings", namespace="CELERY")``).

- ``W701``: on a Redis broker, a delay the suite can see (``TASK_RETRY_BACKOFF_MAX``,
  ``TASK_TIME_LIMIT``, a task's ``default_retry_delay``, ``retry_backoff_max`` or
  ``time_limit``, ``CELERY_TASK_TIME_LIMIT``) exceeds the ``visibility_timeout``:
  Redis hands a message nobody acknowledged within it to another worker, so a
  delayed or long task runs twice.
- ``W702``: ``CELERY_TASK_ALWAYS_EAGER`` outside a test run: tasks run inside the
  request, synchronously, without serialization, retries or time limits.
- ``W703``: a result backend with ``CELERY_RESULT_EXPIRES`` ``None`` or ``0``:
  results are never deleted and the backend grows without bound.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning

from perfsuite.core.conf import perf_settings

#: kombu's Redis transport redelivers an unacknowledged message after this long
KOMBU_VISIBILITY_TIMEOUT = 3600


def _celery(name: str, default: Any = None) -> Any:
    return getattr(settings, f"CELERY_{name}", default)


def redis_broker(url: Any) -> bool:
    return str(url or "").startswith(("redis://", "rediss://", "redis+socket://"))


def visibility_timeout() -> float:
    """The broker's visibility timeout: the setting, else the project's Celery app (where
    ``configure_celery`` may have set it), else kombu's default."""
    options = _celery("BROKER_TRANSPORT_OPTIONS") or {}
    if isinstance(options, dict) and options.get("visibility_timeout") is not None:
        return float(options["visibility_timeout"])
    conf = _app_conf()
    if conf is not None:
        found = (conf.broker_transport_options or {}).get("visibility_timeout")
        if found is not None:
            return float(found)
    return float(KOMBU_VISIBILITY_TIMEOUT)


def _app_conf() -> Any:
    """The current Celery app's configuration, if it is the one these settings configure."""
    try:
        from celery import current_app

        conf = current_app.conf
        if str(conf.broker_url or "") != str(_celery("BROKER_URL") or ""):
            return None
        return conf
    except Exception:
        return None


def delays() -> Iterator[tuple[str, float]]:
    """Every delay or duration the suite can see that a message may wait unacknowledged."""
    conf = perf_settings.as_dict()
    yield "PERFSUITE['TASK_RETRY_BACKOFF_MAX']", float(conf["TASK_RETRY_BACKOFF_MAX"])
    yield "PERFSUITE['TASK_TIME_LIMIT']", float(conf["TASK_TIME_LIMIT"])
    for name in ("TASK_TIME_LIMIT", "TASK_DEFAULT_RETRY_DELAY"):
        value = _celery(name)
        if isinstance(value, int | float) and value > 0:
            yield f"CELERY_{name}", float(value)
    yield from _task_delays()


def _task_delays() -> Iterator[tuple[str, float]]:
    conf = _app_conf()
    if conf is None:
        return
    try:
        from celery import current_app

        tasks = list(current_app.tasks.items())
    except Exception:
        return
    for name, task in tasks:
        if name.startswith("celery."):
            continue
        for attr in ("default_retry_delay", "time_limit", "retry_backoff_max"):
            if attr == "retry_backoff_max" and not getattr(task, "retry_backoff", False):
                continue
            try:
                value = getattr(task, attr, None)
            except Exception:
                continue
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                yield f"{name}.{attr}", float(value)


def check_visibility_timeout(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not redis_broker(_celery("BROKER_URL")):
        return []
    timeout = visibility_timeout()
    longer = [(what, value) for what, value in delays() if value >= timeout]
    if not longer:
        return []
    listed = ", ".join(f"{what} = {value:g} s" for what, value in longer[:5])
    return [
        Warning(
            f"The Redis broker's visibility_timeout ({timeout:g} s) is not longer than "
            f"{listed}: Redis hands such a message to another worker before it is "
            "acknowledged, and the task runs twice.",
            hint="Set CELERY_BROKER_TRANSPORT_OPTIONS = {'visibility_timeout': ...} above "
            "every countdown, ETA, retry delay and time limit (configure_celery sets 6 h), "
            "or shorten those.",
            id="perfsuite.W701",
        )
    ]


def running_tests() -> bool:
    """A test run: Django's test environment is set up, ``manage.py test`` or pytest."""
    try:
        from django.test.utils import _TestState

        if hasattr(_TestState, "saved_data"):
            return True
    except ImportError:  # pragma: no cover
        pass
    argv = sys.argv
    return (len(argv) > 1 and argv[1] == "test") or "pytest" in sys.modules


def check_always_eager(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not _celery("TASK_ALWAYS_EAGER", False) or running_tests():
        return []
    return [
        Warning(
            "CELERY_TASK_ALWAYS_EAGER is on outside a test run: every task runs inside the "
            "request that sends it, synchronously, without a broker, serialization, retries "
            "or time limits.",
            hint="Set it only in the test settings; run a worker (make demo starts one on "
            "the embedded broker).",
            id="perfsuite.W702",
        )
    ]


def check_result_expiry(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    backend = _celery("RESULT_BACKEND")
    if not backend or _celery("TASK_IGNORE_RESULT", False):
        return []
    if str(backend).startswith(("rpc://", "disabled")):
        return []
    if not hasattr(settings, "CELERY_RESULT_EXPIRES"):
        return []  # Celery's default (1 day) or configure_celery's TASK_RESULT_EXPIRES
    expires: Any = getattr(settings, "CELERY_RESULT_EXPIRES", None)
    seconds = expires.total_seconds() if hasattr(expires, "total_seconds") else expires
    if seconds:
        return []
    return [
        Warning(
            f"CELERY_RESULT_EXPIRES is {expires!r} with a result backend ({str(backend)[:40]}): "
            "task results are never deleted and the backend grows without bound.",
            hint="Remove CELERY_RESULT_EXPIRES (the suite sets PERFSUITE['TASK_RESULT_EXPIRES'], "
            "1 day) or give it a number of seconds; or set CELERY_TASK_IGNORE_RESULT = True.",
            id="perfsuite.W703",
        )
    ]


CHECKS = (check_visibility_timeout, check_always_eager, check_result_expiry)
