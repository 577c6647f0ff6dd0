"""Celery signal receivers that record the task metrics (connected once, from ``ready()``).

- publishing process: ``before_task_publish`` stamps the publish time into the
  message headers (``perfsuite_published_at``), ``after_task_publish`` counts it;
- worker: ``task_prerun`` counts the start and the queue wait (publish, or the ETA of
  a delayed task, to start) and keeps the start time on ``task.request`` (never in a
  dict of our own), ``task_postrun`` the runtime and the outcome (succeeded, failed,
  retried: from the state it passes);
- worker processes flush: a prefork child ends with ``os._exit`` after billiard's
  own finalizers, which skip the core flusher's exit hooks, so
  ``worker_process_shutdown`` closes the registry (flush, then remove the journal);
  the main process flushes at ``worker_shutdown``. A child killed with SIGKILL is
  recovered from its journal by the core.
- each worker's main process samples the depth of the queues it consumes
  (:mod:`.queues`) from ``worker_ready`` until ``worker_shutdown``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from . import metrics
from .messages import PUBLISHED_HEADER, epoch, header_of, name_of

logger = logging.getLogger("perfsuite.tasks")

_START = "perfsuite_started_at"
_UID = "perfsuite.tasks.metrics"

_perf = time.perf_counter
_now = time.time
_sampler: Any = None


# -- the publishing process ------------------------------------------------------
def on_before_publish(sender: Any = None, headers: Any = None, **kwargs: Any) -> None:
    if isinstance(headers, dict):
        headers[PUBLISHED_HEADER] = _now()


def on_after_publish(sender: Any = None, headers: Any = None, **kwargs: Any) -> None:
    try:
        task = (headers or {}).get("task") or sender
        metrics.record_published(name_of(task))
    except Exception:  # metrics never fail a publish
        logger.debug("perfsuite task metrics: publish not recorded", exc_info=True)


# -- the worker ------------------------------------------------------------------
def on_prerun(sender: Any = None, task: Any = None, **kwargs: Any) -> None:
    task = task or sender
    try:
        request = task.request
        wait = None
        published = epoch(header_of(request, PUBLISHED_HEADER))
        if published is not None:
            ready = max(published, epoch(getattr(request, "eta", None)) or 0.0)
            wait = _now() - ready
        if getattr(request, "is_eager", False):
            wait = None
        setattr(request, _START, _perf())
        metrics.record_started(name_of(task), wait)
    except Exception:
        logger.debug("perfsuite task metrics: start not recorded", exc_info=True)


def on_postrun(sender: Any = None, task: Any = None, state: Any = None, **kwargs: Any) -> None:
    """The runtime and the outcome, from the state Celery passes (one signal, not three:
    ``task_success`` / ``task_failure`` / ``task_retry`` would each cost a dispatch)."""
    task = task or sender
    try:
        started = getattr(task.request, _START, None)
        metrics.record_finished(
            name_of(task), _perf() - started if started else None, _OUTCOMES.get(state)
        )
    except Exception:
        logger.debug("perfsuite task metrics: runtime not recorded", exc_info=True)


#: Celery's state after a run -> the counter it adds to (REJECTED, IGNORED: none)
_OUTCOMES = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}


# -- worker processes: flushing and sampling -------------------------------------
def on_process_shutdown(**kwargs: Any) -> None:
    from perfsuite.core.metrics import registry

    try:
        registry.close()
    except Exception:
        logger.warning("perfsuite could not flush task metrics at exit", exc_info=True)


def on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    global _sampler
    try:
        from .queues import Sampler, default_queues

        app = sender.app
        consumer = getattr(sender, "task_consumer", None)
        queues = [q.name for q in getattr(consumer, "queues", None) or ()] or default_queues(app)
        sampler = Sampler(app, queues)
        if sampler.start():
            _sampler = sampler
    except Exception:
        logger.warning("perfsuite could not start the queue depth sampler", exc_info=True)


def on_worker_shutdown(**kwargs: Any) -> None:
    from perfsuite.core.metrics import registry

    if _sampler is not None:
        _sampler.stop()
    try:
        registry.flush()
    except Exception:
        logger.warning("perfsuite could not flush task metrics at shutdown", exc_info=True)


def _receivers() -> list[tuple[Any, Any]]:
    from celery import signals

    from . import run_records

    return [
        *run_records.receivers(),
        (signals.before_task_publish, on_before_publish),
        (signals.after_task_publish, on_after_publish),
        (signals.task_prerun, on_prerun),
        (signals.task_postrun, on_postrun),
        (signals.worker_process_shutdown, on_process_shutdown),
        (signals.worker_ready, on_worker_ready),
        (signals.worker_shutdown, on_worker_shutdown),
    ]


def _uid(receiver: Any) -> str:
    return f"{_UID}.{receiver.__module__}.{receiver.__name__}"


def connect() -> None:
    """Connect every receiver (idempotent: one ``dispatch_uid`` each)."""
    try:
        receivers = _receivers()
    except ImportError:  # Celery not installed: nothing to record
        return
    for signal, receiver in receivers:
        signal.connect(receiver, weak=False, dispatch_uid=_uid(receiver))


def disconnect() -> None:
    for signal, receiver in _receivers():
        signal.disconnect(receiver, dispatch_uid=_uid(receiver))
