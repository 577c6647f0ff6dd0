"""``QuerySet.fetch_mode()`` on every supported Django: ``FETCH_ONE``, ``FETCH_PEERS``,
``FETCH_RAISE``, through :class:`FetchModeMixin` (``OptimizedQuerySet`` and its manager
have it)::

    from perfsuite.query_opt.fetch_modes import FETCH_PEERS, FETCH_RAISE

    for post in Post.objects.fetch_mode(FETCH_PEERS)[:50]:
        post.author  # the first access loads the author of all 50 posts, in one query

    Post.objects.fetch_mode(FETCH_RAISE).first().author  # FieldFetchBlocked

**Django 6.1 and later**: the names are Django's own (``django.db.models.FETCH_PEERS``
...), ``fetch_mode()`` is Django's, and the mixin adds nothing.

**Django 5.2 and 6.0**: a shim with the same names. On the first access to a deferred
field, a forward foreign key or one-to-one, or a reverse one-to-one of an instance
that a ``fetch_mode`` queryset loaded, ``FETCH_PEERS`` fetches it for every instance
of that queryset's result still alive (the peers) in one query (``prefetch_related``
for relations, ``pk__in`` for a deferred field), and ``FETCH_RAISE`` raises
:class:`FieldFetchBlocked` (a ``FieldError``; Django's own class on 6.1). Objects
joined by ``select_related`` (a dict of names, not ``select_related()`` of every
relation) and objects fetched for peers get the same mode, peers of each other.
Where it differs from Django 6.1:

- only querysets with the mixin (not every queryset of a model) take a mode; the
  three descriptors are wrapped process-wide on the first ``fetch_mode()`` call
  with a mode other than ``FETCH_ONE`` (about 50 ns more per foreign-key ``*_id``
  or reverse one-to-one read from then on, nothing before);
- objects from ``prefetch_related``, from a related manager (``post.author.posts
  .all()``) and from ``aiterator()`` do not inherit the mode;
- ``GenericForeignKey`` is not covered; a pickled instance forgets its peers.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast

from django.core import exceptions
from django.db.models import QuerySet, prefetch_related_objects
from django.db.models.fields.related_descriptors import (
    ForwardManyToOneDescriptor,
    ReverseOneToOneDescriptor,
)
from django.db.models.query_utils import DeferredAttribute

_django_models: Any = __import__("django.db.models", fromlist=["FETCH_PEERS"])
#: Django 6.1+ has fetch modes of its own
NATIVE = hasattr(_django_models, "FETCH_PEERS")

if TYPE_CHECKING:
    _Base = QuerySet[Any]
else:
    _Base = object


class FetchMode:
    """A shim fetch mode (Django's own class on 6.1)."""

    __slots__ = ("name", "track_peers")

    def __init__(self, name: str, track_peers: bool = False) -> None:
        self.name = name
        self.track_peers = track_peers

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> str:
        return self.name


class PerfsuiteFieldFetchBlocked(exceptions.FieldError):
    """On-demand fetching of a model field blocked (``FETCH_RAISE``)."""


FieldFetchBlocked: type[exceptions.FieldError]
FETCH_ONE: Any
FETCH_PEERS: Any
FETCH_RAISE: Any
if NATIVE:
    FieldFetchBlocked = cast(Any, exceptions).FieldFetchBlocked
    FETCH_ONE = _django_models.FETCH_ONE
    FETCH_PEERS = _django_models.FETCH_PEERS
    FETCH_RAISE = _django_models.FETCH_RAISE
else:
    FieldFetchBlocked = PerfsuiteFieldFetchBlocked
    FETCH_ONE = FetchMode("FETCH_ONE")
    FETCH_PEERS = FetchMode("FETCH_PEERS", track_peers=True)
    FETCH_RAISE = FetchMode("FETCH_RAISE")

#: what ``fetch_mode()`` accepts: Django's own base class on 6.1 (custom modes too)
MODE_TYPE: type = (
    __import__("django.db.models.fetch_modes", fromlist=["FetchMode"]).FetchMode
    if NATIVE
    else FetchMode
)

__all__ = ["FETCH_ONE", "FETCH_PEERS", "FETCH_RAISE", "FetchModeMixin", "FieldFetchBlocked"]

_MODE = "_perfsuite_fetch_mode"
_PEERS = "_perfsuite_peers"


class FetchModeMixin(_Base):
    """``fetch_mode(mode)`` for a QuerySet subclass: Django's on 6.1+, the shim before."""

    _perfsuite_fetch_mode: Any = None

    def fetch_mode(self, fetch_mode: Any) -> Any:
        """A copy of this queryset whose instances fetch lazily loaded fields and
        relations the way ``fetch_mode`` says."""
        if not isinstance(fetch_mode, MODE_TYPE):  # Django 6.1 would fail later, lazily
            raise TypeError(f"fetch_mode takes a FETCH_* mode, not {fetch_mode!r}")
        if NATIVE:
            return cast(Any, super()).fetch_mode(fetch_mode)
        if fetch_mode is not FETCH_ONE:
            _install()
        clone = cast(Any, self)._chain()
        clone._perfsuite_fetch_mode = None if fetch_mode is FETCH_ONE else fetch_mode
        return clone

    def _clone(self) -> Any:
        clone = super()._clone()  # type: ignore[misc]
        if self._perfsuite_fetch_mode is not None:
            clone._perfsuite_fetch_mode = self._perfsuite_fetch_mode
        return clone

    def _fetch_all(self) -> None:
        fresh = self._result_cache is None
        super()._fetch_all()
        if fresh and self._perfsuite_fetch_mode is not None:
            _tag_result(self, self._result_cache or [])

    def _iterator(self, use_chunked_fetch: bool, chunk_size: int | None) -> Any:
        rows = super()._iterator(use_chunked_fetch, chunk_size)  # type: ignore[misc]
        if self._perfsuite_fetch_mode is None:
            return rows
        return self._tagged(rows)

    def _tagged(self, rows: Iterable[Any]) -> Iterator[Any]:
        groups: dict[tuple[str, ...], _Peers] = {}  # peers of the whole iteration
        for row in rows:
            _tag_result(self, [row], groups)
            yield row


class _Peers(list[Any]):
    """Weak references to the instances one query loaded; pickles empty."""

    def __reduce__(self) -> Any:
        return _Peers, ()


def _tag(objects: Iterable[Any], mode: Any, peers: _Peers | None = None) -> None:
    """Give ``objects`` (model instances, None skipped) ``mode``, as peers."""
    if peers is None:
        peers = _Peers()
    seen: set[int] = set()
    for obj in objects:
        if obj is None or not hasattr(obj, "_state") or id(obj) in seen:
            continue
        seen.add(id(obj))
        state = obj._state
        setattr(state, _MODE, mode)
        if mode.track_peers:
            peers.append(weakref.ref(obj))
            setattr(state, _PEERS, peers)


def _tag_result(
    queryset: Any, rows: list[Any], groups: dict[tuple[str, ...], _Peers] | None = None
) -> None:
    """The rows of ``queryset`` and the objects they joined; ``groups`` keeps the peers
    per relation path across the rows of one ``iterator()``."""
    groups = {} if groups is None else groups
    mode = queryset._perfsuite_fetch_mode
    _tag(rows, mode, groups.setdefault((), _Peers()))
    related = queryset.query.select_related
    if isinstance(related, dict):
        _tag_joined(rows, related, mode, groups, ())


def _tag_joined(
    rows: list[Any],
    tree: dict[str, Any],
    mode: Any,
    groups: dict[tuple[str, ...], _Peers],
    path: tuple[str, ...],
) -> None:
    """Objects joined by select_related: the same mode, peers per relation path."""
    for name, subtree in tree.items():
        joined = [row._state.fields_cache.get(name) for row in rows if hasattr(row, "_state")]
        joined = [obj for obj in joined if obj is not None]
        _tag(joined, mode, groups.setdefault((*path, name), _Peers()))
        if subtree:
            _tag_joined(joined, subtree, mode, groups, (*path, name))


def _pk_set(instance: Any) -> bool:
    return instance.__dict__.get(instance._meta.pk.attname) is not None


def _peers_of(instance: Any) -> list[Any]:
    refs = getattr(instance._state, _PEERS, ())
    return [peer for ref in refs if (peer := ref()) is not None]


def _blocked(instance: Any, name: str) -> exceptions.FieldError:
    return FieldFetchBlocked(f"Fetching of {type(instance).__qualname__}.{name} blocked.")


# -- the three places a lazy fetch happens (wrapped on first use) ----------------------
_originals: dict[str, Any] = {}
_lock = threading.Lock()


def _forward_get_object(self: Any, instance: Any) -> Any:
    mode = getattr(instance._state, _MODE, None)
    if mode is None:
        return _originals["forward"](self, instance)
    field = self.field
    if mode is FETCH_RAISE:
        raise _blocked(instance, field.name)
    peers = _peers_of(instance)
    if len(peers) > 1:
        missing = [peer for peer in peers if not field.is_cached(peer)]
        prefetch_related_objects(missing, field.name)
        _tag((field.get_cached_value(peer, None) for peer in missing), mode)
        cached = field.get_cached_value(instance, None)
        if cached is not None:
            return cached
    found = _originals["forward"](self, instance)
    _tag([found], mode)
    return found


def _reverse_one_get(self: Any, instance: Any, cls: Any = None) -> Any:
    if instance is not None:
        mode = getattr(instance._state, _MODE, None)
        related = self.related
        if mode is not None and _pk_set(instance) and not related.is_cached(instance):
            if mode is FETCH_RAISE:
                raise _blocked(instance, related.name)
            peers = _peers_of(instance)
            if len(peers) > 1:
                missing = [peer for peer in peers if not related.is_cached(peer)]
                prefetch_related_objects(missing, related.get_accessor_name())
                _tag((related.get_cached_value(peer, None) for peer in missing), mode)
            else:
                found = _originals["reverse"](self, instance, cls)
                _tag([found], mode)
                return found
    return _originals["reverse"](self, instance, cls)


def _deferred_get(self: Any, instance: Any, cls: Any = None) -> Any:
    if instance is not None and self.field.attname not in instance.__dict__:
        mode = getattr(instance._state, _MODE, None)
        if mode is not None and _pk_set(instance) and self._check_parent_chain(instance) is None:
            if mode is FETCH_RAISE:
                raise _blocked(instance, self.field.name)
            peers = _peers_of(instance)
            if len(peers) > 1:
                _fetch_deferred(self.field, peers)
    return _originals["deferred"](self, instance, cls)


def _fetch_deferred(field: Any, peers: list[Any]) -> None:
    """One query for ``field`` of every peer that lacks it (Django 6.1's way)."""
    attname = field.attname
    to_fetch = [p for p in peers if attname not in p.__dict__ and _pk_set(p)]
    if not to_fetch:
        return
    manager = field.model._base_manager.using(to_fetch[0]._state.db)
    values = dict(manager.filter(pk__in=[p.pk for p in to_fetch]).values_list("pk", attname))
    for peer in to_fetch:
        if peer.pk in values:
            peer.__dict__[attname] = values[peer.pk]


def _install() -> None:
    """Wrap the three descriptors' lazy paths (idempotent; Django before 6.1 only)."""
    with _lock:
        if _originals:
            return
        _originals["forward"] = ForwardManyToOneDescriptor.get_object
        _originals["reverse"] = ReverseOneToOneDescriptor.__get__
        _originals["deferred"] = DeferredAttribute.__get__
        cast(Any, ForwardManyToOneDescriptor).get_object = _forward_get_object
        cast(Any, ReverseOneToOneDescriptor).__get__ = _reverse_one_get
        cast(Any, DeferredAttribute).__get__ = _deferred_get
