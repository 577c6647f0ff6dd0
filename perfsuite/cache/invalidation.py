"""Invalidation by tag, by path and of the whole namespace.

Each bumps a version key; entries stored under the old version miss from then on
(and expire by their TTL). Works the same across processes on a shared backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models.signals import post_delete, post_save

from perfsuite.core.conf import perf_settings

from .keys import backend_for, generation_key, path_tag, tag_key


def _backend() -> Any:
    return backend_for(perf_settings.CACHE_ALIAS)


def invalidate_tags(*tags: str) -> None:
    """Drop every cached response stored under any of ``tags``."""
    backend = _backend()
    for tag in tags:
        backend.bump(tag_key(tag))


def invalidate_path(*paths: str) -> None:
    """Drop every cached response of these paths (all users, queries and variants)."""
    invalidate_tags(*(path_tag(p) for p in paths))


def invalidate_all() -> None:
    """Drop every response cached by this app (the namespace), nothing else."""
    _backend().bump(generation_key())


def invalidate_on_save(
    model: type[Any], tags: Iterable[str] | Callable[[Any], Iterable[str]]
) -> None:
    """Invalidate ``tags`` whenever an instance of ``model`` is saved or deleted.

    ``tags`` is a list, or a function of the instance returning one (e.g. the
    product's own detail-page tag). Call it from ``AppConfig.ready()``.
    """

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        chosen = tags(instance) if callable(tags) else tags
        invalidate_tags(*chosen)

    uid = f"perfsuite-cache-{model._meta.label}-{id(tags)}"
    post_save.connect(receiver, sender=model, weak=False, dispatch_uid=uid + "-save")
    post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=uid + "-delete")
