"""``configure_celery(app)``: Celery settings that do not lose work.

Celery's own defaults acknowledge a task when a worker *receives* it: a worker
killed mid-task loses it. The project's Celery app calls this once::

    app = Celery("project")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    configure_celery(app)

and gets (each only where the setting still has Celery's default value):

- ``task_acks_late`` and ``task_reject_on_worker_lost``: a task is acknowledged when it
  *finished*; a worker process that dies mid-task makes the broker deliver it again
  (tasks must then be idempotent: :mod:`.idempotency`);
- ``worker_prefetch_multiplier = 1``: a worker holds one task per process, so a long
  task does not keep others waiting behind it;
- soft and hard time limits (``TASK_SOFT_TIME_LIMIT``, ``TASK_TIME_LIMIT``);
- ``result_expires`` (``TASK_RESULT_EXPIRES``): results do not grow without bound;
- on Redis, a ``visibility_timeout`` longer than any retry delay, countdown or time
  limit the suite uses (else Redis redelivers a task still waiting: it runs twice);
- JSON only: arguments must round-trip.
"""

from __future__ import annotations

from typing import Any

from perfsuite.core.conf import perf_settings

# a worker loads Celery's configuration before django.setup() imports the apps: the
# TASK_* keys must be declared by then
from . import conf as _declared  # noqa: F401

#: Redis redelivers an unacknowledged task after this long (kombu's default: 1 hour)
VISIBILITY_TIMEOUT = 6 * 3600


def reliable_settings() -> dict[str, Any]:
    conf = perf_settings.as_dict()
    return {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": int(conf["TASK_SOFT_TIME_LIMIT"]),
        "task_time_limit": int(conf["TASK_TIME_LIMIT"]),
        "result_expires": int(conf["TASK_RESULT_EXPIRES"]),
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
    }


def configure_celery(app: Any) -> dict[str, Any]:
    """Apply :func:`reliable_settings` to ``app`` where the project left Celery's
    default; returns what it changed."""
    from celery.app.defaults import DEFAULTS

    changed: dict[str, Any] = {}
    conf = app.conf
    for key, value in reliable_settings().items():
        if conf.get(key) != DEFAULTS.get(key):  # the project chose it: keep its choice
            continue
        conf[key] = value
        changed[key] = value
    broker = str(conf.broker_url or "")
    if broker.startswith(("redis://", "rediss://", "unix://")):
        options = dict(conf.broker_transport_options or {})
        if "visibility_timeout" not in options:
            options["visibility_timeout"] = VISIBILITY_TIMEOUT
            conf.broker_transport_options = options
            changed["broker_transport_options.visibility_timeout"] = VISIBILITY_TIMEOUT
    return changed
