"""A memory budget for file bodies: second-chance (CLOCK) eviction, lock-free hits.

The bytes live on the :class:`~.assets.Variant` itself (``variant.data``), so a
hit is one attribute read and one flag set. Admission and eviction take a lock;
a variant is evicted when the clock hand passes it twice without a hit in
between. The total never exceeds ``budget`` bytes.
"""

from __future__ import annotations

import threading
from collections import deque

from .assets import Variant


class MemoryCache:
    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._ring: deque[Variant] = deque()
        self._lock = threading.Lock()

    def get(self, variant: Variant) -> bytes | None:
        data = variant.data
        if data is not None:
            variant.hot = True
        return data

    def put(self, variant: Variant, data: bytes) -> bool:
        """Keep ``data`` as ``variant``'s body if it fits the budget (evicting others)."""
        size = len(data)
        if size > self.budget:
            return False
        with self._lock:
            if variant.data is not None:
                return True
            ring = self._ring
            # Each pass either evicts or clears one flag: at most 2 * len(ring) steps.
            while self.used + size > self.budget and ring:
                victim = ring.popleft()
                if victim.hot:
                    victim.hot = False
                    ring.append(victim)
                    continue
                if victim.data is not None:
                    self.used -= len(victim.data)
                victim.data = None
            variant.data = data
            variant.hot = False
            ring.append(variant)
            self.used += size
        return True

    def discard(self, variant: Variant) -> None:
        with self._lock:
            if variant.data is not None:
                self.used -= len(variant.data)
                variant.data = None
            try:
                self._ring.remove(variant)
            except ValueError:
                pass

    def clear(self) -> None:
        with self._lock:
            for variant in self._ring:
                variant.data = None
            self._ring.clear()
            self.used = 0
