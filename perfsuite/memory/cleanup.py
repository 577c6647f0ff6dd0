"""The three steps of a cleanup, in order, each failing open.

1. ``gc.collect()``: reference cycles nobody can reach any more.
2. Every cache registered in :mod:`perfsuite.core.caches` keeps its most recent
   part (the memory app never imports the app that owns a cache).
3. On glibc, ``malloc_trim(0)`` hands the free parts of the C heap back to the
   kernel: without it, memory Python freed often stays in the process's RSS.
   musl (Alpine) and macOS have no ``malloc_trim``; the step is skipped there.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("perfsuite.memory")

_UNLOADED: Any = object()
#: the C function, loaded once: None where there is none (musl, macOS, Windows)
_malloc_trim: Any = _UNLOADED


def collect() -> int:
    """Unreachable objects found by a full collection."""
    return gc.collect()


def _load_malloc_trim() -> Callable[[int], int] | None:
    try:
        import ctypes

        libc = ctypes.CDLL(None)  # the symbols already loaded into this process
        function = libc.malloc_trim
    except (OSError, AttributeError, ImportError, TypeError):
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return function


def malloc_trim_function() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, loaded on first use; None where the C library has none."""
    global _malloc_trim
    if _malloc_trim is _UNLOADED:
        _malloc_trim = _load_malloc_trim()
    return _malloc_trim


def trim() -> bool:
    """Run ``malloc_trim(0)``; whether it ran."""
    function = malloc_trim_function()
    if function is None:
        return False
    try:
        function(0)
    except Exception:  # a foreign function that misbehaves: report, never raise
        logger.warning("malloc_trim(0) failed", exc_info=True)
        return False
    return True
