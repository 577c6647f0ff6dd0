"""Where recorded metrics go: ``local`` (this process), ``sqlite`` (every process of
one machine) or ``redis`` (every process and machine)."""

from __future__ import annotations

from django.utils.module_loading import import_string

from ..conf import perf_settings
from ..sketch import Mapping
from .base import WINDOWS, SeriesStats, Snapshot, Store
from .local import LocalStore

__all__ = ["WINDOWS", "LocalStore", "SeriesStats", "Snapshot", "Store", "store_from_settings"]


def store_from_settings(mapping: Mapping) -> Store:
    name = perf_settings.STORE
    if name == "local":
        return LocalStore(mapping)
    if name == "redis":
        from .redis import RedisStore

        return RedisStore.from_settings(mapping)
    if name == "sqlite":
        from .sqlite import SQLiteStore

        return SQLiteStore.from_settings(mapping)
    cls = import_string(name)
    return cls(mapping)
