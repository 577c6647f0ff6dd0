"""Field dicts as rows of ``bulk.bulk_create``: copied to PostgreSQL without making
instances (:func:`copy_dicts`), or turned into instances cheaply (:func:`instance_builder`,
Django's positional ``__init__``) where instances are needed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import DateField, DateTimeField, Field, Model, TimeField

from .pg_copy import EXPRESSION, copy_rows, copyable, plain_type, prep_value

_MISSING = object()


def copy_dicts(model: type[Model], rows: list[Mapping[str, Any]], connection: Any) -> bool:
    """COPY field dicts without making instances (no ``pre_init``/``post_init``): for
    models whose fields keep values as given (no ``auto_now``, no file or custom
    ``pre_save``). False, nothing written, when :func:`copy_batch`'s path must do it."""
    if not rows or not copyable(model, connection):
        return False
    plan = _dict_plan(model)
    if plan is None:
        return False
    slots, fields = plan
    values: list[tuple[Any, ...]] = []
    for row in rows:
        prepared = _dict_row(row, slots, fields, connection)
        if prepared is None:
            return False
        values.append(prepared)
    copy_rows(model, [f.column for f, _plain in fields], values, connection)
    return True


_plans: dict[type[Model], Any] = {}


def _dict_plan(model: type[Model]) -> Any:
    """Per model: key -> (index, field, by name), and the fields with their plain type;
    None when a field's ``pre_save`` changes values (then instances are needed)."""
    if model in _plans:
        return _plans[model]
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and getattr(f, "db_returning", False))
    ]
    plan: Any = None
    if all(_keeps_value(f) for f in fields):
        slots: dict[str, tuple[int, Any, bool]] = {}
        for i, field in enumerate(fields):
            slots[field.attname] = (i, field, False)
            slots[field.name] = (i, field, field.is_relation)
        plan = (slots, [(f, plain_type(f)) for f in fields])
    _plans[model] = plan
    return plan


def _keeps_value(field: Any) -> bool:
    if type(field).pre_save is Field.pre_save:
        return True
    simple = type(field) in (DateField, DateTimeField, TimeField)
    return simple and not field.auto_now and not field.auto_now_add


def _dict_row(
    row: Mapping[str, Any], slots: dict[str, Any], fields: list[Any], connection: Any
) -> tuple[Any, ...] | None:
    values: list[Any] = [_MISSING] * len(fields)
    for key, value in row.items():
        slot = slots.get(key)
        if slot is None:  # the primary key, a property: make instances
            return None
        i, field, related = slot
        if related and isinstance(value, Model):
            if value.pk is None:
                raise ValueError(
                    "bulk_create() prohibited to prevent data loss due to unsaved "
                    f"related object '{field.name}'."
                )
            value = getattr(value, field.target_field.attname)
        values[i] = value
    for i, (field, plain) in enumerate(fields):
        value = field.get_default() if values[i] is _MISSING else values[i]
        values[i] = prep_value(field, plain, value, connection)
        if values[i] is EXPRESSION:
            return None
    return tuple(values)


def instance_builder(model: type[Model]) -> Callable[[Mapping[str, Any]], Model]:
    """A function making an instance of ``model`` from a dict of field values, through
    Django's positional ``__init__`` (the path ``from_db`` takes: no keyword parsing,
    foreign keys set by id): several times cheaper than ``model(**row)``, same
    defaults and signals. Keys other than concrete fields go to ``model(**row)``."""
    fields = model._meta.concrete_fields
    slots: dict[str, tuple[int, Any, bool]] = {}
    for i, field in enumerate(fields):
        slots[field.attname] = (i, field, False)
        slots[field.name] = (i, field, field.is_relation)

    def build(row: Mapping[str, Any]) -> Model:
        values: list[Any] = [_MISSING] * len(fields)
        for key, value in row.items():
            slot = slots.get(key)
            if slot is None:
                return model(**row)  # a property or generic relation: Django's way
            i, field, related = slot
            if related and isinstance(value, Model):
                if value.pk is None:
                    raise ValueError(
                        f"bulk_create() prohibited to prevent data loss due to unsaved "
                        f"related object '{field.name}'."
                    )
                value = getattr(value, field.target_field.attname)
            values[i] = value
        for i, value in enumerate(values):
            if value is _MISSING:
                values[i] = fields[i].get_default()
        return model(*values)

    return build
