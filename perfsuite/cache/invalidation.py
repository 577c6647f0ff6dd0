"""Invalidation by tag, by path and of the whole namespace.

Each bumps a version key; entries stored under the old version miss from then on
(and expire by their TTL). Works the same across processes on a shared backend.

Invalidation never fails the caller. When the backend cannot be reached, the
version keys are kept as *pending* in this process, counted in
``perfsuite_cache_invalidation_failures`` and retried in the background as soon
as the backend's breaker allows a probe; until they are applied this process
serves nothing from the cache (so it never serves what it failed to invalidate).
:func:`invalidate_on_save` invalidates when the transaction commits, never
inside it: a request between the bump and the commit would otherwise store the
old page under the new version.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from perfsuite.core.conf import perf_settings
from perfsuite.core.logs import Throttled

from .backend import backend_for
from .keys import generation_key, path_tag, tag_key
from .metrics import record_invalidation_deferred

logger = logging.getLogger("perfsuite.cache")

#: pending version keys beyond this are replaced by one namespace bump
MAX_PENDING = 10_000
_pending: set[str] = set()
_lock = threading.Lock()
_retry: list[threading.Timer] = []
_warnings = Throttled(logger, lambda: float(perf_settings.CACHE_WARNING_INTERVAL))


class InvalidationPending(Exception):
    """An invalidation of this process could not be applied yet: serve uncached."""


def invalidate_tags(*tags: str) -> bool:
    """Drop every cached response stored under any of ``tags``; False if deferred."""
    return _bump([tag_key(tag) for tag in tags])


def invalidate_path(*paths: str) -> bool:
    """Drop every cached response of these paths (all users, queries and variants)."""
    return invalidate_tags(*(path_tag(p) for p in paths))


def invalidate_all() -> bool:
    """Drop every response cached by this app (the namespace), nothing else."""
    return _bump([generation_key()])


def invalidate_on_save(
    model: type[Any], tags: Iterable[str] | Callable[[Any], Iterable[str]]
) -> None:
    """Invalidate ``tags`` when a saved or deleted instance of ``model`` is committed.

    ``tags`` is a list, or a function of the instance returning one (e.g. the
    product's own detail-page tag). Call it from ``AppConfig.ready()``.
    """

    def receiver(sender: Any, instance: Any, using: str | None = None, **kwargs: Any) -> None:
        chosen = tuple(tags(instance) if callable(tags) else tags)
        transaction.on_commit(partial(invalidate_tags, *chosen), using=using)

    uid = f"perfsuite-cache-{model._meta.label}-{id(tags)}"
    post_save.connect(receiver, sender=model, weak=False, dispatch_uid=uid + "-save")
    post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=uid + "-delete")


def has_pending() -> bool:
    return bool(_pending)


def replay_pending() -> None:
    """Apply this process's pending invalidations; raise if they still cannot be."""
    if _pending and not _bump([]):
        raise InvalidationPending(f"{len(_pending)} invalidations wait for the backend")


def _bump(version_keys: list[str]) -> bool:
    with _lock:
        todo = list(dict.fromkeys([*_pending, *version_keys]))
    if not todo:
        return True
    try:
        backend_for(perf_settings.CACHE_ALIAS).bump(todo)
    except Exception as exc:
        if version_keys:  # a new invalidation deferred (retries are not counted again)
            record_invalidation_deferred()
        with _lock:
            _pending.update(version_keys)
            if len(_pending) > MAX_PENDING:
                _pending.clear()
                _pending.add(generation_key())  # too many: drop the whole namespace
        _warnings.warning(
            "response cache invalidation deferred (%d pending) until the backend answers: %r",
            len(_pending),
            exc,
        )
        _schedule_retry()
        return False
    with _lock:
        _pending.difference_update(todo)
    return True


def _schedule_retry() -> None:
    with _lock:
        if _retry and _retry[0].is_alive():
            return
        try:
            delay = backend_for(perf_settings.CACHE_ALIAS).breaker.retry_in()
        except Exception:
            delay = 1.0
        timer = threading.Timer(max(delay, 0.05) + 0.01, _retry_now)
        timer.daemon = True
        _retry[:] = [timer]
    timer.start()


def _retry_now() -> None:
    with _lock:
        _retry.clear()
    if _pending:
        _bump([])
