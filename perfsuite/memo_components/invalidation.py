"""Saving or deleting a model instance drops the memoized renders that show it, in
every process.

``post_save`` and ``post_delete`` receivers (connected once, for every model) act
after the transaction commits (``transaction.on_commit``), so no process can cache a
render of the data the transaction is still writing: this process's LRU entries
that show the instance are dropped at once, and with a shared alias the instance's
generation is incremented and logged for the others (:mod:`.shared`), which drop
theirs within ``COMPONENT_SYNC_INTERVAL``. Without a shared alias a save costs a
dict lookup; with one, a save of a model that no memoized render has shown in any
process costs one read of the alias after commit.
"""

from __future__ import annotations

from typing import Any

from django.db import router, transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from . import metrics, shared
from .lru import renders


def changed(instance: Model) -> None:
    """Drop the renders of ``instance`` here and, after commit, everywhere."""
    dep = (instance._meta.label_lower, str(instance.pk))
    if shared.backend() is None and dep not in renders.by_dep:
        return  # no render of it here, and no other process to tell

    def apply() -> None:
        renders.drop_dep(dep)
        shared.publish(dep)
        metrics.record_invalidation(dep[0])

    using = router.db_for_write(type(instance), instance=instance)
    transaction.on_commit(apply, using=using)


def _on_change(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or not isinstance(instance, Model) or instance.pk is None:
        return  # loaddata, or an instance that never had a row
    changed(instance)


def sync() -> None:
    """Drop the renders other processes invalidated (throttled; see :mod:`.shared`)."""
    found = shared.changes()
    if found is None:
        renders.clear()
        return
    for dep in found:
        renders.drop_dep(dep)


def _file_changed(sender: Any, file_path: Any, **kwargs: Any) -> None:
    """runserver: an edited template is hashed again (a new key) and old renders go."""
    if str(file_path).endswith((".html", ".txt", ".xml", ".svg")):
        from .memo import forget_identities

        forget_identities()
        renders.clear()


def connect() -> None:
    from django.utils.autoreload import file_changed

    post_save.connect(_on_change, dispatch_uid="perfsuite.memo_components.save")
    post_delete.connect(_on_change, dispatch_uid="perfsuite.memo_components.delete")
    file_changed.connect(_file_changed, dispatch_uid="perfsuite.memo_components.templates")
