"""The slowest requests of the last hour in this process (a bounded min-heap).

Per process: the dashboard shows the slowest requests of the process that serves
it. ``SLOW_REQUESTS_KEPT`` bounds it.
"""

from __future__ import annotations

import heapq
import threading
import time
from typing import Any

from perfsuite.core.conf import perf_settings

_time = time.time


class Slowest:
    """The slowest requests of the last hour in this process (a bounded min-heap)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._heap: list[tuple[float, float, str, str, int]] = []
        self._limit: int | None = None
        #: the shortest duration kept once the heap is full (-1 until then): a request
        #: no slower is not offered (read without the lock on every request)
        self.floor = -1.0
        perf_settings.on_change(self._forget_limit)

    def _forget_limit(self) -> None:
        self._limit = None
        self.floor = -1.0

    def offer(self, duration: float, route: str, method: str, status: int) -> None:
        limit = self._limit
        if limit is None:
            limit = self._limit = int(perf_settings.SLOW_REQUESTS_KEPT)
        heap = self._heap
        if len(heap) >= limit and duration <= heap[0][0]:
            return
        with self._lock:
            item = (duration, _time(), route, method, status)
            if len(heap) < limit:
                heapq.heappush(heap, item)
            elif duration > heap[0][0]:
                heapq.heapreplace(heap, item)
            self.floor = heap[0][0] if len(heap) >= limit else -1.0

    def recent(self, max_age: float = 3600) -> list[dict[str, Any]]:
        cutoff = _time() - max_age
        with self._lock:
            self._heap = [item for item in self._heap if item[1] >= cutoff]
            heapq.heapify(self._heap)
            limit = self._limit
            full = limit is not None and len(self._heap) >= limit
            self.floor = self._heap[0][0] if full else -1.0
            items = sorted(self._heap, reverse=True)
        return [
            {"duration": d, "at": at, "route": r, "method": m, "status": s}
            for d, at, r, m, s in items
        ]

    def clear(self) -> None:
        with self._lock:
            self._heap = []
            self.floor = -1.0


slowest = Slowest()
