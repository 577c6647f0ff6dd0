"""Django's psycopg connection pools, seen: statistics per alias and process, fork safety.

With ``DATABASES[alias]["OPTIONS"]["pool"]`` Django (5.1+) keeps one
``psycopg_pool.ConnectionPool`` per alias and process, in the class attribute
``DatabaseWrapper._connection_pools``. This module

- reads a pool's ``get_stats()`` defensively (its keys are not a fixed interface: a
  key that is missing is absent from the figures, never an error) into the guide's
  keys ``size``, ``min_size``, ``max_size``, ``idle_size`` and ours;
- samples every open pool of the process from a daemon thread, every
  ``FLUSH_INTERVAL`` seconds, into the metrics (nothing per request): gauges for
  the figures of now (the store sums them over the worker processes), counters
  for the totals (added as deltas, so windows and dead workers add up);
- drops, in a child after ``os.fork()``, every pool it inherited (without closing
  it: that would end the parent's sessions) and the connection the forking thread
  had checked out of one, so a child opens its own and never shares a socket.
  The child keeps what it dropped for check ``perfsuite.W302``; parent and child log
  a warning (the parent once per alias).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from django.conf import settings
from django.db.backends.signals import connection_created

from perfsuite.core.conf import perf_settings

from .metrics import record_pool_deltas, record_pool_gauges

logger = logging.getLogger("perfsuite.query_opt")

#: our figure -> the ``get_stats()`` keys it adds up (psycopg_pool 3.2/3.3 names)
STATS_KEYS: dict[str, tuple[str, ...]] = {
    "size": ("pool_size",),
    "min_size": ("pool_min",),
    "max_size": ("pool_max",),
    "idle_size": ("pool_available",),
    "waiting": ("requests_waiting",),
    "requests": ("requests_num",),
    "queued": ("requests_queued",),
    "wait_ms": ("requests_wait_ms",),
    "errors": ("requests_errors",),
    "connections": ("connections_num",),
    "connect_ms": ("connections_ms",),
    "connection_errors": ("connections_errors",),
    "connections_lost": ("connections_lost",),
}
#: figures of now; the others are totals since the pool opened
GAUGES = ("size", "min_size", "max_size", "idle_size", "waiting")
TOTALS = tuple(key for key in STATS_KEYS if key not in GAUGES)


def read_stats(pool: Any) -> dict[str, int]:
    """The figures of one pool; a key ``get_stats()`` lacks is absent, never an error."""
    try:
        raw = pool.get_stats()
        stats = dict(raw) if raw is not None else {}
    except Exception:
        logger.debug("perfsuite: reading pool statistics failed", exc_info=True)
        stats = {}
    figures: dict[str, int] = {}
    for key, sources in STATS_KEYS.items():
        values = [stats[s] for s in sources if _is_number(stats.get(s))]
        if values:
            figures[key] = int(sum(values))
    for key in ("min_size", "max_size"):
        value = getattr(pool, key, None)
        if key not in figures and isinstance(value, int | float) and _is_number(value):
            figures[key] = int(value)
    if "idle_size" in figures:
        figures["available"] = figures["idle_size"]
    return figures


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _pools_dict() -> dict[str, Any] | None:
    try:
        from django.db.backends.postgresql.base import DatabaseWrapper
    except Exception:  # psycopg not installed: no pools
        return None
    pools = getattr(DatabaseWrapper, "_connection_pools", None)
    return pools if isinstance(pools, dict) else None


def open_pools() -> dict[str, Any]:
    """The pools of this process that are open, by alias (never creates or opens one)."""
    pools = _pools_dict() or {}
    return {
        alias: pool for alias, pool in list(pools.items()) if not getattr(pool, "closed", False)
    }


def pool_options(alias: str) -> dict[str, Any] | None:
    """``OPTIONS["pool"]`` of a PostgreSQL alias as a dict; None when it has no pool."""
    config = settings.DATABASES.get(alias) or {}
    if "postgresql" not in str(config.get("ENGINE", "")):
        return None
    options = (config.get("OPTIONS") or {}).get("pool")
    if not options:
        return None
    return dict(options) if isinstance(options, dict) else {}


def pooled_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if pool_options(alias) is not None]


# -- sampling into the metrics --------------------------------------------------
class PoolSampler:
    """Reads this process's pools into the metrics; a daemon thread calls it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._totals: dict[str, tuple[int, dict[str, int]]] = {}  # alias -> (id(pool), totals)
        self._gauges: dict[str, tuple[dict[str, int], float]] = {}  # alias -> (figures, set at)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def sample(self) -> dict[str, dict[str, int]]:
        """Record every open pool of this process now; returns its figures by alias."""
        with self._lock:
            now = time.monotonic()
            pools = open_pools()
            seen: dict[str, dict[str, int]] = {}
            for alias, pool in pools.items():
                figures = read_stats(pool)
                seen[alias] = figures
                self._record(alias, id(pool), figures, now)
            for alias in [a for a in self._gauges if a not in seen]:
                # a pool closed (or dropped after a fork): its connections are gone
                record_pool_gauges(alias, dict.fromkeys(GAUGES, 0))
                del self._gauges[alias]
                self._totals.pop(alias, None)
            return seen

    def _record(self, alias: str, pool_id: int, figures: dict[str, int], now: float) -> None:
        totals = {k: figures[k] for k in TOTALS if k in figures}
        known_id, before = self._totals.get(alias, (pool_id, {}))
        if known_id != pool_id:
            before = {}  # a new pool for this alias: it counts from zero
        deltas = {k: v - before.get(k, 0) for k, v in totals.items()}
        # A counter that went down was reset (pop_stats): what it shows is new.
        deltas = {k: (d if d >= 0 else totals[k]) for k, d in deltas.items()}
        record_pool_deltas(alias, deltas)
        self._totals[alias] = (pool_id, totals)
        gauges = {k: figures[k] for k in GAUGES if k in figures}
        last = self._gauges.get(alias)
        # An idle pool's unchanged figures are set again only before the store would
        # expire them; a pool in use sets them at every sample (a reset cleared them).
        used = any(deltas.values())
        if used or last is None or last[0] != gauges or now - last[1] >= _keepalive():
            record_pool_gauges(alias, gauges)
            self._gauges[alias] = (gauges, now)

    # -- the thread ----------------------------------------------------------
    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._stop = threading.Event()
            thread = threading.Thread(target=self._run, name="perfsuite-dbpool", daemon=True)
            self._thread = thread
        thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        stop = self._stop
        while not stop.wait(_interval()):
            try:
                self.sample()
            except Exception:  # never let the thread die
                logger.exception("perfsuite: sampling database pools failed")

    def after_fork(self) -> None:
        """In a child: no thread (threads do not survive a fork), nothing measured yet."""
        self._lock = threading.Lock()
        self._reset()


def _interval() -> float:
    try:
        interval = float(perf_settings.FLUSH_INTERVAL)
    except Exception:
        interval = 1.0
    return interval if 0.01 <= interval <= 3600 else 1.0


def _keepalive() -> float:
    try:
        return max(1.0, float(perf_settings.GAUGE_STALE_AFTER) / 3)
    except Exception:
        return 40.0


sampler = PoolSampler()


def _on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Start the sampler with the first pooled connection of the process (then: one check)."""
    if sampler.started or getattr(connection, "vendor", "") != "postgresql":
        return
    try:
        pooled = connection.pool is not None
    except Exception:
        return
    if pooled:
        sampler.start()


def install() -> None:
    """Called from ``ready()``: start sampling once a pool is in use."""
    connection_created.connect(_on_connection_created, dispatch_uid="perfsuite-dbpool")


# -- fork safety ------------------------------------------------------------------
class ForkRecord:
    """What this process knows about pools and forks (read by check W302)."""

    def __init__(self) -> None:
        #: aliases whose pool was open when this process forked (the parent, logged once)
        self.forked_with: set[str] = set()
        #: aliases whose open pool this process inherited, and the parent's pid
        self.inherited: dict[str, int] = {}
        #: inherited pools and connections, kept referenced: never finalised here
        self.dropped: list[Any] = []


forks = ForkRecord()


def _before_fork() -> None:
    try:
        new = set(open_pools()) - forks.forked_with
        if new:
            forks.forked_with.update(new)
            logger.warning(
                "perfsuite: process %d forks with the database pool(s) %s open; the child "
                "drops them and opens its own (do not query before forking)",
                os.getpid(),
                ", ".join(sorted(new)),
            )
    except Exception:  # nothing may stop a fork
        pass


def _after_fork_in_child() -> None:
    parent = os.getppid()
    forks.forked_with = set()
    forks.inherited = {}
    sampler.after_fork()
    try:
        drop_inherited_pools(parent)
    except Exception:  # nothing may stop a fork
        logger.warning("perfsuite: could not drop the pools inherited at fork", exc_info=True)


def drop_inherited_pools(parent: int) -> list[str]:
    """Forget this process's pools (it is a fresh child): Django opens new ones.

    A pool is not closed here, nor is any of its connections: closing would send
    the server a Terminate on the socket the parent still uses. The objects stay
    referenced (psycopg never finishes a connection created in another process).
    """
    pools = _pools_dict()
    if not pools:
        return []
    inherited = dict(pools)
    dropped = [alias for alias, pool in inherited.items() if not getattr(pool, "closed", False)]
    for alias in inherited:
        pools.pop(alias, None)
    forks.dropped.extend(inherited.values())
    owned = {id(pool) for pool in inherited.values()}
    from django.db import connections

    for wrapper in connections.all(initialized_only=True):
        conn = getattr(wrapper, "connection", None)
        if conn is not None and id(getattr(conn, "_pool", None)) in owned:
            forks.dropped.append(conn)
            wrapper.connection = None  # the next query connects from a new pool
    for alias in dropped:
        forks.inherited[alias] = parent
    if dropped:
        logger.warning(
            "perfsuite: process %d inherited the open database pool(s) %s of process %d "
            "and dropped them; it opens its own (check perfsuite.W302)",
            os.getpid(),
            ", ".join(sorted(dropped)),
            parent,
        )
    return dropped


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
