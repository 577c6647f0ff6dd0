"""Worker recycling for gunicorn: a worker a request left above its RSS limit is retired
gracefully, the master starts a replacement (docs/memory.md).

    gunicorn -c python:perfsuite.memory.gunicorn --preload -w 4 project.wsgi

or, in a gunicorn config file of your own::

    from perfsuite.memory.gunicorn import *  # noqa: F403  (the three hooks below)

- ``pre_fork`` (master, before each fork): closes the master's database connections,
  so no worker shares their sockets; with ``preload_app``, ``gc.freeze()``, so the
  workers' collections never write to (and so copy) the objects they inherited.
- ``post_worker_init`` (worker, its application loaded): draws the worker's limit in
  ``[MEMORY_RECYCLE_RSS_MB * (1 - MEMORY_RECYCLE_JITTER), MEMORY_RECYCLE_RSS_MB]``,
  so workers do not restart together; a thread reads RSS once a second until the
  worker's first ``post_request``, for good in a worker class that never calls it
  (uvicorn's ``UvicornWorker``), and stops it gracefully once it is over.
- ``post_request`` (worker, after the response was written): reads RSS (1.6 µs in all:
  ``/proc/self/statm`` through a descriptor kept open); above the limit, sets
  ``worker.alive = False``: sync, gthread and asgi workers finish what they serve,
  leave their loop and exit normally (``atexit`` flushes the metrics).

A retirement is logged (gunicorn's logger: pid, RSS, limit) and counted in
``perfsuite_memory_recycles{reason="rss"}``. gunicorn itself is never imported here:
the hooks only use the objects gunicorn hands them.
"""

from __future__ import annotations

import gc
import os
import random
import signal
import threading
from collections.abc import Callable
from typing import Any

from django.apps import apps

from perfsuite.core.conf import perf_settings

from . import metrics
from .usage import MB
from .uvicorn_drain import request_exit

__all__ = ["post_request", "post_worker_init", "pre_fork"]

#: seconds between two readings of a worker that never calls ``post_request``
WATCH_INTERVAL = 1.0
_ATTRIBUTE = "perfsuite_recycler"
_making = threading.Lock()


class RssReader:
    """This process's resident size in bytes: ``/proc/self/statm`` read with ``pread``
    on a descriptor opened once (Linux), else psutil. Create it in the process it reads:
    ``/proc/self`` names the process that opened it."""

    def __init__(self) -> None:
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._fd: int | None = None
        self._process: Any = None
        try:
            self._fd = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:  # no procfs (macOS)
            import psutil

            self._process = psutil.Process()

    def __del__(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass

    def __call__(self) -> int:
        if self._fd is not None:
            return int(os.pread(self._fd, 128, 0).split()[1]) * self._page
        return int(self._process.memory_info().rss)


def draw_limit(limit_mb: float, jitter: float, draw: Callable[[], float] = random.random) -> int:
    """A worker's own limit in bytes, in ``[limit_mb * (1 - jitter), limit_mb]`` MB."""
    return int(limit_mb * (1 - jitter * draw()) * MB)


class Recycler:
    """One worker's limit (bytes; None: recycling off) and whether it is retiring."""

    def __init__(self, limit: int | None, read: Callable[[], int] | None = None) -> None:
        self.limit = limit
        self.read: Callable[[], int] = read or (RssReader() if limit is not None else int)
        self.retiring = False
        #: set by the first ``post_request``: this worker class calls it
        self.per_request = False
        #: the thread watching a worker until then (post_worker_init starts it)
        self.watcher: threading.Thread | None = None
        self._done = threading.Event()  # ends the watcher
        self._lock = threading.Lock()

    def claim(self) -> bool:
        """True for the first caller only (gthread runs ``post_request`` in many threads)."""
        with self._lock:
            if self.retiring:
                return False
            self.retiring = True
        self._done.set()
        return True

    def first_request(self) -> None:
        self.per_request = True
        self._done.set()

    def watch(self, worker: Any) -> None:
        """Read RSS once a second until the worker's first ``post_request`` or its end."""
        self.watcher = threading.Thread(
            target=self._watch, args=(worker,), name="perfsuite-recycle", daemon=True
        )
        self.watcher.start()

    def _watch(self, worker: Any) -> None:
        limit = self.limit
        assert limit is not None
        while not self._done.wait(WATCH_INTERVAL):
            try:
                rss = self.read()
                if rss > limit and self.claim():
                    _retire(worker, rss, limit, "(graceful shutdown)")
                    stop_server(worker)
            except Exception:  # never let the thread die with a traceback
                worker.log.exception("perfsuite.memory: the recycling check failed")
                return


def recycler_of(worker: Any) -> Recycler:
    """The worker's recycler, made from ``PERFSUITE`` on first use (its limit drawn)."""
    recycler = getattr(worker, _ATTRIBUTE, None)
    if recycler is not None:
        return recycler
    with _making:  # once, even from a gthread worker's first requests
        recycler = getattr(worker, _ATTRIBUTE, None)
        if recycler is None:
            recycler = _make(worker)
            setattr(worker, _ATTRIBUTE, recycler)
    return recycler


def _make(worker: Any) -> Recycler:
    recycler = Recycler(_draw(worker))
    limit = recycler.limit
    if limit is not None and (rss := recycler.read()) > limit:
        # It would restart after every request, each replacement too.
        worker.log.warning(
            "perfsuite.memory: worker %s starts at RSS %.1f MB, above its limit of "
            "%.1f MB: no recycling in this worker (raise MEMORY_RECYCLE_RSS_MB)",
            os.getpid(),
            rss / MB,
            limit / MB,
        )
        recycler.limit = None
    return recycler


def _draw(worker: Any) -> int | None:
    try:
        conf = perf_settings.as_dict()
        limit_mb = conf["MEMORY_RECYCLE_RSS_MB"]
        return None if limit_mb is None else draw_limit(limit_mb, conf["MEMORY_RECYCLE_JITTER"])
    except Exception:  # no Django settings: not a Django application
        worker.log.warning("perfsuite.memory: no PERFSUITE settings, no recycling")
        return None


# -- the hooks ------------------------------------------------------------------
def pre_fork(server: Any, worker: Any) -> None:
    """Master, before each fork: close its connections; ``gc.freeze()`` when preloaded."""
    if apps.ready:  # the application was loaded here (preload_app): it may have connected
        from django.db import connections

        try:
            connections.close_all()
        except Exception:  # the fork goes on: the worker's own connections are fresh anyway
            server.log.warning("perfsuite.memory: closing connections failed", exc_info=True)
    if getattr(server.cfg, "preload_app", False) and _setting("MEMORY_GC_FREEZE", True):
        gc.freeze()


def post_worker_init(worker: Any) -> None:
    """Worker, its application loaded: draw its limit, and watch it from a thread until
    its first ``post_request`` (for good in a worker that never calls it: uvicorn's)."""
    recycler = recycler_of(worker)
    if recycler.limit is not None:
        recycler.watch(worker)


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """Worker, after each response: retire it once its RSS is above its limit."""
    recycler = getattr(worker, _ATTRIBUTE, None) or recycler_of(worker)
    limit = recycler.limit
    if limit is None or recycler.retiring:
        return
    if not recycler.per_request:
        recycler.first_request()  # the watching thread ends
    rss = recycler.read()
    if rss > limit and recycler.claim():
        _retire(worker, rss, limit, "after this request")
        worker.alive = False  # as max_requests does: the loop ends after this request
        queue = getattr(worker, "method_queue", None)
        if queue is not None:  # gthread: wake its poller now, not within a second
            queue.defer(_nothing)


# -- helpers ----------------------------------------------------------------------
def _retire(worker: Any, rss: int, limit: int, when: str) -> None:
    worker.log.info(
        "perfsuite.memory: retiring worker %s %s: RSS %.1f MB above its limit of %.1f MB",
        os.getpid(),
        when,
        rss / MB,
        limit / MB,
    )
    metrics.record_recycle("rss")


def stop_server(worker: Any) -> None:
    """Shut this worker down gracefully from any thread, as its SIGTERM would.

    uvicorn's ``Server`` (the SIGTERM handler it installed) is asked through
    ``should_exit`` once it has read the requests it accepted (uvicorn_drain.py), so it
    also exits normally; otherwise SIGTERM itself."""
    worker.alive = False
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    if server is not None and hasattr(server, "should_exit"):
        request_exit(server, worker.log)
    else:
        os.kill(os.getpid(), signal.SIGTERM)


def _setting(key: str, default: Any) -> Any:
    try:
        return perf_settings.as_dict()[key]
    except Exception:  # settings not configured in this process
        return default


def _nothing() -> None:
    pass
