"""Rows of a QuerySet by index, read by keyset on its ordering (not a deep OFFSET).

An index range ``[start, end)`` becomes a key: a **sparse index** holds the sort key of
every ``VIRTUAL_INDEX_STRIDE``-th row (256: 3,907 keys for a million rows), built by one
query with ``ROW_NUMBER()`` the first time a window past the first stride is asked
for, and again when the count changes or after ``VIRTUAL_INDEX_TTL`` seconds. A window
then reads ``WHERE key >= anchor ORDER BY key LIMIT n OFFSET < stride``: the same
work at row 10 and at row 999,990. The count is cached ``VIRTUAL_COUNT_TTL`` seconds.

Limits: the ordering must be on non-null columns (a NULL never compares: check
``perfsuite.W211``); ``pk`` is appended so the order is total. Rows inserted or deleted
before a position shift it until the index is rebuilt (a keyset condition still
returns rows, never an error). Each process keeps its own index (a few KB per
source), registered as the clearable cache ``memo_components.virtual``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value, Window
from django.db.models.functions import RowNumber

from perfsuite.core import caches
from perfsuite.core.conf import perf_settings

MAX_ENTRIES = 256

_counts: OrderedDict[str, tuple[float, int]] = OrderedDict()
_indexes: OrderedDict[str, tuple[float, int, list[tuple[Any, ...]]]] = OrderedDict()
_lock = threading.Lock()


def order_of(queryset: QuerySet[Any], order: tuple[str, ...] | None) -> tuple[str, ...]:
    """Field names to order by (the source's, the QuerySet's, the model's), ``pk`` last."""
    fields: tuple[Any, ...] = (
        order or tuple(queryset.query.order_by) or tuple(queryset.model._meta.ordering)
    )
    names: list[str] = []
    for field in fields:
        if not isinstance(field, str) or field.lstrip("-") in ("", "?"):
            raise TypeError(f"a virtual list orders by field names, not {field!r}")
        names.append(field)
    pk = queryset.model._meta.pk
    pk_names = {"pk", pk.name if pk is not None else "pk"}
    if not any(name.lstrip("-") in pk_names for name in names):
        names.append("pk")
    return tuple(names)


class RowAtOrAfter(Func):
    """``(a, b) >= (%s, %s)`` (``<=`` when every field descends): a row-value comparison,
    which SQLite (3.15+) and PostgreSQL evaluate in one step."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, columns: list[Any], values: list[Any], descending: bool) -> None:
        super().__init__(*columns, *values)
        self.width = len(columns)
        self.operator = "<=" if descending else ">="

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, more = compiler.compile(expression)
            parts.append(sql)
            params.extend(more)
        left, right = ", ".join(parts[: self.width]), ", ".join(parts[self.width :])
        return f"({left}) {self.operator} ({right})", params


def at_or_after(queryset: QuerySet[Any], order: tuple[str, ...], key: tuple[Any, ...]) -> Any:
    """Rows at or after ``key`` in ``order``. The first field's bound comes first on its
    own (``name >= 'x' AND (name, id) >= ('x', 5)``): an index on it serves the condition
    on SQLite and PostgreSQL alike. Mixed directions or related fields expand the row
    comparison into ``name > 'x' OR (name = 'x' AND id >= 5)``."""
    fields = [(name.lstrip("-"), name.startswith("-")) for name in order]
    first, descending = fields[0]
    lead = Q(**{f"{first}__{'lte' if descending else 'gte'}": key[0]})
    model_fields = [_model_field(queryset, f) for f, _ in fields]
    if len({d for _, d in fields}) == 1 and all(f is not None for f in model_fields):
        values = [Value(v, output_field=f) for v, f in zip(key, model_fields, strict=True)]
        row = RowAtOrAfter([F(f) for f, _ in fields], values, descending)
        return queryset.filter(lead, row)
    condition = Q(**{f"{f}__exact": v for (f, _), v in zip(fields, key, strict=True)})
    for i, (field, desc) in enumerate(fields):
        step = Q(**{f"{field}__{'lt' if desc else 'gt'}": key[i]})
        for (prior, _), value in zip(fields[:i], key[:i], strict=True):
            step &= Q(**{prior: value})
        condition |= step
    return queryset.filter(lead & condition)


def _model_field(queryset: QuerySet[Any], name: str) -> Any:
    if "__" in name:
        return None
    meta = queryset.model._meta
    try:
        return meta.pk if name == "pk" else meta.get_field(name)
    except FieldDoesNotExist:
        return None


class KeysetRows:
    def __init__(self, queryset: QuerySet[Any], order: tuple[str, ...], label: str) -> None:
        self.queryset = queryset.order_by(*order)
        self.order = order
        sql, params = self.queryset.query.get_compiler(self.queryset.db).as_sql()
        digest = hashlib.sha256(repr((sql, params)).encode()).hexdigest()[:16]
        self.key = f"{label}:{self.queryset.db}:{digest}"

    def count(self) -> int:
        now = time.monotonic()
        with _lock:
            known = _counts.get(self.key)
        if known is not None and known[0] > now:
            return known[1]
        value = self.queryset.count()
        with _lock:
            _counts[self.key] = (now + perf_settings.VIRTUAL_COUNT_TTL, value)
            _counts.move_to_end(self.key)
            while len(_counts) > MAX_ENTRIES:
                _counts.popitem(last=False)
        return value

    def window(self, start: int, end: int) -> list[Any]:
        stride = perf_settings.VIRTUAL_INDEX_STRIDE
        if start < stride:
            return list(self.queryset[start:end])
        keys = self.index(stride)
        slot = min(start // stride, len(keys) - 1) if keys else -1
        if slot < 0:
            return list(self.queryset[start:end])
        skip = start - slot * stride
        rows = at_or_after(self.queryset, self.order, keys[slot])
        return list(rows[skip : skip + end - start])

    def index(self, stride: int) -> list[tuple[Any, ...]]:
        """The sort keys of rows 0, stride, 2 * stride ... (cached, see the module)."""
        count = self.count()
        now = time.monotonic()
        with _lock:
            known = _indexes.get(self.key)
            if known is not None and known[0] > now and known[1] == count:
                _indexes.move_to_end(self.key)
                return known[2]
        keys = sample_keys(self.queryset, self.order, stride)
        with _lock:
            _indexes[self.key] = (now + perf_settings.VIRTUAL_INDEX_TTL, count, keys)
            _indexes.move_to_end(self.key)
            while len(_indexes) > MAX_ENTRIES:
                _indexes.popitem(last=False)
        return keys


def sample_keys(queryset: QuerySet[Any], order: tuple[str, ...], stride: int) -> list[Any]:
    """One query: the key of every ``stride``-th row, numbered by ``ROW_NUMBER()``."""
    fields = [name.lstrip("-") for name in order]
    ordering = [
        F(f).desc() if n.startswith("-") else F(f).asc() for f, n in zip(fields, order, strict=True)
    ]
    numbered = queryset.annotate(_ps_row=Window(RowNumber(), order_by=ordering))
    sampled = numbered.annotate(_ps_slot=(F("_ps_row") - 1) % stride).filter(_ps_slot=0)
    return [tuple(row) for row in sampled.order_by(*order).values_list(*fields)]


def clear() -> None:
    with _lock:
        _counts.clear()
        _indexes.clear()


def _size() -> tuple[int, int]:
    with _lock:
        entries = len(_counts) + len(_indexes)
        keys = sum(len(v[2]) for v in _indexes.values())
    return entries, keys * 64  # a rough figure: a key tuple of one or two values


def _shrink(keep: float) -> int:
    with _lock:
        return caches.shrink_mapping(_counts, keep) + caches.shrink_mapping(_indexes, keep)


caches.register("memo_components.virtual", _size, _shrink)
