"""The run history's writes as plain ``INSERT ... ON CONFLICT`` statements.

A batch of run records is a few hundred rows a second per worker process. Django's
``bulk_create(update_conflicts=True)`` builds its SQL value by value, and that was
about a third of a pool process's time on no-op tasks; here each statement is built
once per set of fields and run with ``executemany`` (values prepared by their model
fields, so time zones and JSON are as Django writes them). SQLite and PostgreSQL
(both have ``ON CONFLICT``); other databases take ``bulk_create``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections

CHUNK = 500


def _native(alias: str) -> bool:
    return connections[alias].vendor in ("sqlite", "postgresql")


def _columns() -> list[Any]:
    """Every field a row is inserted with (missing values take their defaults)."""
    from .models import TaskRun

    return [f for f in TaskRun._meta.concrete_fields if not f.primary_key]


def _statement(alias: str, names: Sequence[str], update: bool) -> str:
    from .models import TaskRun

    quote = connections[alias].ops.quote_name
    fields = _columns()
    sql = (
        f"INSERT INTO {quote(TaskRun._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT ({quote('task_id')}) "
    )
    if not update:
        return sql + "DO NOTHING"
    given = [f for f in fields if f.name in names]
    sets = ", ".join(f"{quote(f.column)} = excluded.{quote(f.column)}" for f in given)
    return sql + f"DO UPDATE SET {sets}"


def _values(alias: str, rows: Iterable[tuple[str, dict[str, Any]]]) -> list[list[Any]]:
    connection = connections[alias]
    fields = _columns()
    defaults = {f.name: f.get_default() for f in fields}
    values = []
    for task_id, given in rows:
        row = {**defaults, **given, "task_id": task_id}
        values.append([f.get_db_prep_save(row[f.name], connection) for f in fields])
    return values


def write(
    alias: str, names: Sequence[str], rows: list[tuple[str, dict[str, Any]]], *, update: bool
) -> None:
    """Insert ``rows`` (task id, {name: value} over ``names``); on a task id already
    there, set ``names`` (``update``) or keep the row (not ``update``)."""
    from .models import TaskRun

    if not rows:
        return
    if not _native(alias):
        objects = [TaskRun(task_id=task_id, **fields) for task_id, fields in rows]
        if update:
            TaskRun.objects.using(alias).bulk_create(
                objects,
                update_conflicts=True,
                unique_fields=["task_id"],
                update_fields=list(names),
            )
        else:
            TaskRun.objects.using(alias).bulk_create(objects, ignore_conflicts=True)
        return
    sql = _statement(alias, names, update)
    with connections[alias].cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(sql, _values(alias, rows[start : start + CHUNK]))
