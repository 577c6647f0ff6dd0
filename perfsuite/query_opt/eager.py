"""Unused eager loads: a ``select_related`` / ``prefetch_related`` whose objects a
request never reads.

Three Django internals are wrapped once, at install time (idempotent, undone by
:func:`uninstall`):

- ``RelatedPopulator.__init__`` (one per ``select_related`` relation per query),
- ``prefetch_one_level`` (one per ``prefetch_related`` level per query),
- ``prefetch_related_objects`` (reads made while Django walks a prefetch path are
  not reads of the user's).

Each wrapper first looks at the request's :class:`~.instrumentation.QueryLog`: with no
tracked request (commands, tasks, tests outside a request, ``UNUSED_EAGER_MODE``
off) it calls the original at once, so nothing is added per row or per attribute
read. In a tracked request the instances that received a relation get a watching
copy of the cache that holds it (``_state.fields_cache`` for one object,
``_prefetched_objects_cache`` for a many relation, a list subclass for a
``Prefetch(to_attr=...)`` list). Reading the relation on any of them marks that
load used; the loads never read are reported when the response is done, once per
relation per request, with the line and SQL of the query that loaded them.

Not tracked: ``to_attr`` of a single object, filtered relations
(``FilteredRelation``), ``RawQuerySet`` prefetches, responses streamed after the
middleware returned. Pickling a watched cache (the cache backend) stores a plain
one and does not count as a read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import query as _django_query

from .detection import caller
from .instrumentation import QueryLog, current

_query: Any = _django_query  # the internals wrapped are not in django-stubs
_lock = threading.Lock()
_originals: dict[str, Any] = {}


@dataclass(slots=True)
class Load:
    """One relation loaded eagerly by one query of the request."""

    relation: str
    via: str
    fingerprint: str
    caller: str
    tracker: EagerTracker
    count: int = 0
    used: bool = False


class EagerTracker:
    """The eager loads of one request (on its ``QueryLog.eager``)."""

    __slots__ = ("loads", "walking")

    def __init__(self) -> None:
        self.loads: list[Load] = []
        #: > 0 while Django walks a prefetch path (its reads are not the user's)
        self.walking = 0

    def load(self, log: QueryLog, relation: str, via: str) -> Load:
        """A load to watch; one made by Django's or a library's own code (no frame of
        the project's on the stack: the admin's log entries) counts as used."""
        where = caller()
        made = Load(relation, via, log.last_shape, where, self)
        if where == "unknown":
            made.used = True
        else:
            self.loads.append(made)
        return made

    def unused(self) -> list[tuple[str, str, str, str, int]]:
        """(relation, via, fingerprint, caller, count) of each relation never read,
        once per relation: the first query that loaded it in vain."""
        seen: set[str] = set()
        used = {load.relation for load in self.loads if load.used}
        found = []
        for load in self.loads:
            if load.used or load.relation in used or load.relation in seen:
                continue
            seen.add(load.relation)
            found.append((load.relation, load.via, load.fingerprint, load.caller, load.count))
        return found


class WatchedDict(dict[Any, Any]):
    """A relation cache that marks a load used when one of its keys is read."""

    __slots__ = ("loads",)
    loads: dict[Any, Load]

    def __getitem__(self, key: Any) -> Any:
        value = dict.__getitem__(self, key)
        if key in self.loads:
            _read(self.loads, key)
        return value

    def __reduce__(self) -> Any:
        return dict, (dict(self.items()),)


class WatchedList(list[Any]):
    """A ``Prefetch(to_attr=...)`` list that marks its load used when it is read."""

    __slots__ = ("load",)
    load: Load

    def _mark(self) -> None:
        load = self.load
        if not load.used and not load.tracker.walking:
            load.used = True

    def __iter__(self) -> Any:
        self._mark()
        return list.__iter__(self)

    def __len__(self) -> int:
        self._mark()
        return list.__len__(self)

    def __getitem__(self, index: Any) -> Any:
        self._mark()
        return list.__getitem__(self, index)

    def __contains__(self, item: Any) -> bool:
        self._mark()
        return list.__contains__(self, item)

    def __reversed__(self) -> Any:
        self._mark()
        return list.__reversed__(self)

    def __reduce__(self) -> Any:
        return list, (list(list.__iter__(self)),)


def _read(loads: dict[Any, Load], key: Any) -> None:
    load = loads[key]
    if load.tracker.walking:
        return
    load.used = True
    del loads[key]


def _watched(cache: dict[Any, Any], key: str, load: Load) -> WatchedDict | None:
    """``cache`` watched for ``key``: a new WatchedDict to put in its place, or None
    when it already is one."""
    if type(cache) is WatchedDict:
        cache.loads[key] = load
        return None
    watched = WatchedDict(cache)
    watched.loads = {key: load}
    return watched


def _tracker() -> tuple[QueryLog, EagerTracker] | None:
    log = current()
    if log is None or log.eager is None or log.silenced:
        return None
    return log, log.eager


# -- select_related ---------------------------------------------------------------------
def _populator_init(self: Any, klass_info: Any, *args: Any, **kwargs: Any) -> None:
    _originals["RelatedPopulator.__init__"](self, klass_info, *args, **kwargs)
    tracked = _tracker()
    if tracked is None:
        return
    setter = self.local_setter
    cache_name = getattr(getattr(setter, "__self__", None), "cache_name", None)
    if not isinstance(cache_name, str):  # a FilteredRelation: not tracked
        return
    self.local_setter = _watching_setter(setter, cache_name, *tracked)


def _watching_setter(
    setter: Callable[[Any, Any], None], cache_name: str, log: QueryLog, tracker: EagerTracker
) -> Callable[[Any, Any], None]:
    loaded: list[Load] = []  # made on the first row: a query with no rows loads nothing

    def local_setter(from_obj: Any, obj: Any) -> None:
        setter(from_obj, obj)
        if not loaded:
            relation = f"{from_obj._meta.label}.{cache_name}"
            loaded.append(tracker.load(log, relation, "select_related"))
        load = loaded[0]
        load.count += 1
        if not load.used:
            state = from_obj._state
            if (watched := _watched(state.fields_cache, cache_name, load)) is not None:
                state.fields_cache = watched

    return local_setter


# -- prefetch_related -------------------------------------------------------------------
def _prefetch_one_level(instances: Any, prefetcher: Any, lookup: Any, level: int) -> Any:
    tracked = _tracker()
    if tracked is None or not instances:
        return _originals["prefetch_one_level"](instances, prefetcher, lookup, level)
    log, tracker = tracked
    before = log.count
    result = _originals["prefetch_one_level"](instances, prefetcher, lookup, level)
    attr, as_attr = lookup.get_current_to_attr(level)
    first = instances[0]
    relation = f"{first._meta.label}.{attr}"
    load = tracker.load(log, relation, "prefetch_related")
    if load.used:  # not the project's own
        return result
    if log.count == before:
        load.fingerprint = "(no query)"
    load.count = len(instances)
    if as_attr:
        if not isinstance(first.__dict__.get(attr), list):
            tracker.loads.remove(load)  # a single object under to_attr: not tracked
            return result
        for obj in instances:
            listed = WatchedList(obj.__dict__[attr])
            listed.load = load
            obj.__dict__[attr] = listed
    elif attr in getattr(first, "_prefetched_objects_cache", ()):
        for obj in instances:
            if (watched := _watched(obj._prefetched_objects_cache, attr, load)) is not None:
                obj._prefetched_objects_cache = watched
    elif attr in first._state.fields_cache:
        for obj in instances:
            state = obj._state
            if (watched := _watched(state.fields_cache, attr, load)) is not None:
                state.fields_cache = watched
    else:  # a prefetcher of its own kind: not tracked
        tracker.loads.remove(load)
    return result


def _prefetch_related_objects(model_instances: Any, *related_lookups: Any) -> Any:
    tracked = _tracker()
    if tracked is None:
        return _originals["prefetch_related_objects"](model_instances, *related_lookups)
    tracker = tracked[1]
    tracker.walking += 1
    try:
        return _originals["prefetch_related_objects"](model_instances, *related_lookups)
    finally:
        tracker.walking -= 1


def install() -> None:
    """Wrap the three internals (idempotent)."""
    with _lock:
        if _originals:
            return
        populator = _query.RelatedPopulator
        _originals["RelatedPopulator.__init__"] = populator.__init__
        _originals["prefetch_one_level"] = _query.prefetch_one_level
        _originals["prefetch_related_objects"] = _query.prefetch_related_objects
        populator.__init__ = _populator_init
        _query.prefetch_one_level = _prefetch_one_level
        _query.prefetch_related_objects = _prefetch_related_objects


def uninstall() -> None:
    """Put Django's own back (benchmarks and tests)."""
    with _lock:
        if not _originals:
            return
        _query.RelatedPopulator.__init__ = _originals["RelatedPopulator.__init__"]
        _query.prefetch_one_level = _originals["prefetch_one_level"]
        _query.prefetch_related_objects = _originals["prefetch_related_objects"]
        _originals.clear()
