"""Memory monitoring and cleanup, per process (docs/memory.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["MemoryManager", "memory_manager"]


def __getattr__(name: str) -> Any:
    # Lazy, so importing the app package never imports psutil or reads settings.
    if name in __all__:
        from . import manager

        return getattr(manager, name)
    raise AttributeError(name)
