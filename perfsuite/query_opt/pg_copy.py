"""Insert a batch of instances with PostgreSQL's ``COPY ... FROM STDIN`` (psycopg 3's
``cursor.copy``); :mod:`.dict_rows` does the same for field dicts.

COPY skips SQL building and parsing per row: several times less work than a
multi-row ``INSERT``, for the same values. Each value is prepared exactly as
Django's ``bulk_create`` prepares it (``pre_save``, ``get_db_prep_save``). The
statement runs through the connection's execute wrappers, so query_opt's counts,
debug tools and ``assert_max_queries`` see it as one query.

:func:`copy_batch` returns False, having written nothing, when a batch needs
Django's own ``bulk_create``: another database, psycopg 2, a multi-table child
model, a generated field, a value that is an expression or a database default,
or primary keys given for only some rows.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    CharField,
    ForeignKey,
    IntegerField,
    Model,
    SmallIntegerField,
    TextField,
)


def copy_batch(model: type[Model], objects: list[Model], connection: Any) -> bool:
    """COPY ``objects`` into ``model``'s table; False when Django's path must do it."""
    prepared = _prepare(model, objects, connection)
    if prepared is None:
        return False
    copy_rows(model, *prepared, connection)
    return True


def copy_rows(model: type[Model], columns: list[str], rows: list[Any], connection: Any) -> None:
    quote = connection.ops.quote_name
    sql = "COPY {} ({}) FROM STDIN".format(
        quote(model._meta.db_table), ", ".join(quote(c) for c in columns)
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor

        def run(sql: str, params: Any, many: bool, context: dict[str, Any]) -> None:
            with raw.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)

        executor = run
        for wrapper in reversed(connection.execute_wrappers):
            executor = functools.partial(wrapper, executor)
        executor(sql, None, False, {"connection": connection, "cursor": cursor})


def copyable(model: type[Model], connection: Any) -> bool:
    if connection.vendor != "postgresql":
        return False
    opts = model._meta
    if opts.parents or any(getattr(f, "generated", False) for f in opts.concrete_fields):
        return False
    from django.db.backends.postgresql.psycopg_any import (  # type: ignore[import-untyped]
        is_psycopg3,
    )

    return bool(is_psycopg3)  # psycopg 2 has copy_expert, not copy()


def _prepare(
    model: type[Model], objects: list[Model], connection: Any
) -> tuple[list[str], list[tuple[Any, ...]]] | None:
    if not objects or not copyable(model, connection):
        return None
    opts = model._meta
    with_pk = [obj.pk is not None for obj in objects]
    if any(with_pk) and not all(with_pk):
        return None
    fields = [
        f
        for f in opts.concrete_fields
        if all(with_pk) or not (f.primary_key and getattr(f, "db_returning", False))
    ]
    plan = [(field, plain_type(field)) for field in fields]
    rows = []
    for obj in objects:
        if obj._state.fields_cache:  # related objects set: Django's unsaved-object check
            obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
        row = []
        for field, plain in plan:
            value = getattr(obj, field.attname) if plain is not None else field.pre_save(obj, True)
            prepared = prep_value(field, plain, value, connection)
            if prepared is EXPRESSION:
                return None
            row.append(prepared)
        rows.append(tuple(row))
    return [f.column for f in fields], rows


#: what :func:`prep_value` answers for a value COPY cannot send (an expression)
EXPRESSION: Any = object()


def prep_value(field: Any, plain: type | None, value: Any, connection: Any) -> Any:
    """``value`` as Django's ``bulk_create`` would send it (``get_db_prep_save``); plain
    ``str``/``int`` values of Django's own fields as they are; :data:`EXPRESSION` for
    F(), Now(), a database default ... (Django's path must insert those)."""
    if plain is not None and type(value) is plain:
        return value
    if hasattr(value, "resolve_expression"):
        return EXPRESSION
    return field.get_db_prep_save(value, connection=connection)


def plain_type(field: Any) -> type | None:
    """``str`` or ``int`` when the field (exactly Django's own class, not a subclass
    that may override a hook) stores a value of that type as it is on PostgreSQL."""
    target = field.target_field if field.is_relation and field.many_to_one else field
    kind = type(target)
    if type(field) not in (ForeignKey, kind):
        return None
    if kind in (CharField, TextField):
        return str
    if kind in (AutoField, BigAutoField, IntegerField, BigIntegerField, SmallIntegerField):
        return int
    return None
