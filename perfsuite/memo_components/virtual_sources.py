"""Data sources of virtual lists: what rows a list shows, and who may read them.

A browser only ever names a source and an index range; it never picks a model or a
query. A source is either **registered** by name::

    from perfsuite.memo_components.virtual_sources import generated, register_source

    register_source("items", generated(100_000, lambda i: {"id": i, "name": f"Item {i}"}))
    register_source("products", Product.objects.all(), order=("name", "pk"))

    @register_source("my-orders", permission="shop.view_order")
    def my_orders(request):  # a callable of the request: rows per user
        return Order.objects.filter(user=request.user)

or an **unfiltered QuerySet handed to the tag** (``{% virtual_list products %}``): its
model, ordering, ``only()``/``defer()`` and ``select_related()`` are signed into the
list's token (:mod:`.virtual_render`) and rebuilt from it; a filtered QuerySet must be
registered (the signature would not capture the filter).

Data is a sequence (anything with ``len()`` and slicing: rows addressed by index), a
QuerySet (read by keyset on its ordering, :mod:`.virtual_keyset`) or a callable of the
request returning either. ``permission`` is a permission name (``user.has_perm``) or a
callable of the request; without one, whoever was shown the page may read its windows
(the token is bound to that user).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, overload

from django.db.models import QuerySet
from django.http import HttpRequest

from .virtual_keyset import KeysetRows, order_of


class Rows(Protocol):
    """What a list reads: the row count and the rows ``[start, end)``."""

    def count(self) -> int: ...

    def window(self, start: int, end: int) -> list[Any]: ...


class SequenceRows:
    """Rows of a sequence, addressed by index (a list, or :func:`generated`)."""

    def __init__(self, data: Sequence[Any]) -> None:
        self.data = data

    def count(self) -> int:
        return len(self.data)

    def window(self, start: int, end: int) -> list[Any]:
        return list(self.data[start:end])


class Generated(Sequence[Any]):
    """``count`` rows made on demand by ``row(index)``: nothing is held in memory."""

    def __init__(self, count: int, row: Callable[[int], Any]) -> None:
        self._count = count
        self._row = row

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(self._count))]
        if not -self._count <= index < self._count:
            raise IndexError("row index out of range")
        return self._row(index % self._count)


def generated(count: int, row: Callable[[int], Any]) -> Generated:
    """A sequence of ``count`` rows computed by ``row(index)`` (the guide's 100,000 items)."""
    return Generated(count, row)


Permission = str | Callable[[HttpRequest], bool] | None


@dataclass(frozen=True)
class Source:
    name: str
    data: Any  # a QuerySet, a sequence, or a callable of the request returning one
    order: tuple[str, ...] | None = None
    permission: Permission = None
    #: the module that registered it (its app's checks judge it only while installed)
    module: str = ""

    def allowed(self, request: HttpRequest | None) -> bool:
        if self.permission is None:
            return True
        user = getattr(request, "user", None)
        if isinstance(self.permission, str):
            return bool(user is not None and user.has_perm(self.permission))
        return bool(request is not None and self.permission(request))

    def open(self, request: HttpRequest | None) -> Rows:
        """The rows this source shows to ``request`` (a callable is called with it)."""
        data = self.data
        if callable(data) and not isinstance(data, QuerySet | Sequence):
            data = data(request)
        return rows_of(data, self.order, self.name)

    def queryset(self) -> QuerySet[Any] | None:
        """The source's QuerySet when it is one (not a callable): for the checks."""
        return self.data if isinstance(self.data, QuerySet) else None


def rows_of(data: Any, order: tuple[str, ...] | None, label: str) -> Rows:
    if isinstance(data, QuerySet):
        return KeysetRows(data, order_of(data, order), label)
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        return SequenceRows(data)
    raise TypeError(f"virtual list source {label!r} gave {type(data).__name__}, not rows")


_sources: dict[str, Source] = {}


def register_source(
    name: str,
    data: Any = None,
    *,
    order: tuple[str, ...] | None = None,
    permission: Permission = None,
) -> Any:
    """Register ``data`` as the source ``name``; without ``data``, a decorator of the
    callable of the request that gives the rows. Registering a name again replaces it."""
    if not name or "/" in name or len(name) > 100:
        raise ValueError("a source name is 1-100 characters without '/'")

    def add(value: Any) -> Any:
        module = str(sys._getframe(1).f_globals.get("__name__", ""))
        if module == __name__:  # called below, for register_source(name, data)
            module = str(sys._getframe(2).f_globals.get("__name__", ""))
        ordered = tuple(order) if order else None
        _sources[name] = Source(name, value, ordered, permission, module)
        return value

    return add if data is None else add(data)


def unregister_source(name: str) -> None:
    _sources.pop(name, None)


def get_source(name: str) -> Source:
    """The source registered as ``name``; ``LookupError`` when there is none."""
    try:
        return _sources[name]
    except KeyError:
        raise LookupError(f"no virtual list source is registered as {name!r}") from None


def registered_sources() -> dict[str, Source]:
    return dict(_sources)
