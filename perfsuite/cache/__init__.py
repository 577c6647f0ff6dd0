"""Response-caching middleware on any Django cache (local memory or Redis)."""

from __future__ import annotations

from typing import Any

__all__ = [
    "cache_response",
    "invalidate_all",
    "invalidate_on_save",
    "invalidate_path",
    "invalidate_tags",
]


def __getattr__(name: str) -> Any:
    # Lazy, so importing the app package never imports Django models or settings.
    if name == "cache_response":
        from .decorators import cache_response

        return cache_response
    if name in ("invalidate_all", "invalidate_on_save", "invalidate_path", "invalidate_tags"):
        from . import invalidation

        return getattr(invalidation, name)
    raise AttributeError(name)
