"""Bulk operations that stay in bounded memory (the guide's ``BulkOperations``).

- :func:`bulk_create` takes any iterable, a generator of a million rows included,
  and inserts it in batches inside one transaction without materialising it
  (Django's ``QuerySet.bulk_create`` makes a list of the whole input first).
- :func:`bulk_update_status` sets one field on a queryset or a list of ids.
- :func:`delete_older_than` deletes in primary-key batches, each in its own short
  transaction, so writers are never blocked for the whole purge.
- :func:`execute_transaction` runs operations in one transaction (all or nothing).

Each has an ``a``-prefixed async twin, run in Django's thread for database work.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from itertools import islice
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.db import connections, router, transaction
from django.db.models import FileField, Model, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from .dict_rows import copy_dicts, instance_builder
from .pg_copy import copy_batch

M = TypeVar("M", bound=Model)
#: ids per ``pk__in`` query (under SQLite's and PostgreSQL's parameter limits)
ID_CHUNK = 900


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _check_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


def bulk_create(
    model: type[M],
    rows: Iterable[M | Mapping[str, Any]],
    *,
    batch_size: int = 1000,
    using: str | None = None,
) -> int:
    """Insert ``rows`` (model instances or field dicts) in batches, in one transaction.

    Memory holds one batch at a time, whatever the length of ``rows``. On PostgreSQL
    a batch is written with ``COPY`` (:mod:`.pg_copy`; the instances' primary keys are
    then not set), elsewhere with Django's ``bulk_create``. Returns the number of
    rows inserted; an error rolls every batch back.
    """
    _check_size(batch_size)
    db = using or router.db_for_write(model)
    manager = model._default_manager.db_manager(db)
    build = instance_builder(model)
    file_fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, FileField)]
    count = 0
    with transaction.atomic(using=db):
        for batch in _batches(rows, batch_size):
            connection = connections[db]
            if all(isinstance(row, Mapping) for row in batch) and copy_dicts(
                model, batch, connection
            ):
                count += len(batch)
            else:
                objects = [row if isinstance(row, model) else build(row) for row in batch]
                if not copy_batch(model, objects, connection):
                    manager.bulk_create(objects, batch_size=batch_size)  # type: ignore[arg-type]
                count += len(objects)
                _uncycle(objects, file_fields)
                del objects
            del batch
            # Anything else the batch left in cycles goes now, not with the input.
            gc.collect(1)
    return count


def _uncycle(objects: list[Any], attnames: list[str]) -> None:
    """A file field's value, once read, is a FieldFile pointing back at its instance: a
    reference cycle that only a full collection frees, so a long input would pile up
    until then. Put back the file's name (the descriptor makes a FieldFile again when
    it is read): the instance is freed as soon as it is dropped."""
    for obj in objects:
        values = obj.__dict__
        for attname in attnames:
            value = values.get(attname)
            if isinstance(value, FieldFile):
                values[attname] = value.name


def bulk_update_status(
    target: QuerySet[M] | Iterable[Any],
    status: Any,
    *,
    model: type[M] | None = None,
    field: str = "status",
    using: str | None = None,
) -> int:
    """Set ``field`` to ``status`` on a queryset, or on the rows of ``model`` with these ids."""
    if isinstance(target, QuerySet):
        return target.update(**{field: status})
    if model is None:
        raise ValueError("bulk_update_status needs model= when given ids")
    db = using or router.db_for_write(model)
    manager = model._default_manager.db_manager(db)
    updated = 0
    with transaction.atomic(using=db):
        for chunk in _batches(target, ID_CHUNK):
            updated += manager.filter(pk__in=chunk).update(**{field: status})
    return updated


def delete_older_than(
    model: type[M],
    field: str,
    days: float,
    *,
    batch_size: int = 1000,
    using: str | None = None,
) -> int:
    """Delete rows whose ``field`` is older than ``days``, ``batch_size`` at a time.

    Each batch is its own transaction (selected by primary key, then deleted with
    Django's cascades and signals), so a purge of millions never holds locks for long
    and rows written meanwhile are left alone. Returns the rows of ``model`` deleted.
    """
    _check_size(batch_size)
    if isinstance(days, bool) or not isinstance(days, int | float) or days < 0:
        raise ValueError(f"days must be a number >= 0, got {days!r}")
    db = using or router.db_for_write(model)
    manager = model._default_manager.db_manager(db)
    cutoff = timezone.now() - timedelta(days=days)
    label = model._meta.label
    total = 0
    while True:
        with transaction.atomic(using=db):
            old = manager.filter(**{f"{field}__lt": cutoff}).order_by("pk")
            ids = list(old.values_list("pk", flat=True)[:batch_size])
            if not ids:
                return total
            _count, per_model = manager.filter(pk__in=ids).delete()
            total += per_model.get(label, 0)


def execute_transaction(
    operations: Iterable[Callable[[], Any]], using: str | None = None
) -> list[Any]:
    """Run ``operations`` in one transaction and return their results (all or nothing)."""
    with transaction.atomic(using=using):
        return [operation() for operation in operations]


abulk_create = sync_to_async(bulk_create)
abulk_update_status = sync_to_async(bulk_update_status)
adelete_older_than = sync_to_async(delete_older_than)
aexecute_transaction = sync_to_async(execute_transaction)
