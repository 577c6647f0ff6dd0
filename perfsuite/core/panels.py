"""The dashboard panel registry: how apps show up on the performance dashboard.

An app subclasses :class:`Panel` and calls :func:`register` in its
``AppConfig.ready()``. The dashboard (in ``perf_monitor``) renders every
registered panel, in a stable order, over one metrics snapshot; an app that is
not installed never registers, so it shows nothing.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .stores.base import Snapshot


class Panel:
    """Base class of dashboard panels.

    Class attributes:

    ``id``
        Unique, stable identifier (``"cache"``); used as the key in the JSON feed.
    ``title``
        Heading shown on the dashboard.
    ``template_name``
        Template rendered with ``{"panel": self, "stats": <get_stats result>}``.
    ``order``
        Panels are listed by ``(order, title, id)``; lower comes first.
    """

    id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    template_name: ClassVar[str] = ""
    order: ClassVar[int] = 100

    def get_stats(self, snapshot: Snapshot) -> dict[str, Any]:
        """Return JSON-serialisable figures for this panel from one snapshot.

        Called once per dashboard render or feed request; must not query the
        database or the network beyond what the snapshot already holds.
        """
        raise NotImplementedError


_panels: dict[str, Panel] = {}
_lock = threading.Lock()


def register(panel: Panel) -> Panel:
    """Register (or replace, by ``id``) a panel instance. Idempotent."""
    if not panel.id:
        raise ValueError(f"{type(panel).__name__} needs an id")
    with _lock:
        _panels[panel.id] = panel
    return panel


def unregister(panel_id: str) -> None:
    with _lock:
        _panels.pop(panel_id, None)


def get_panels() -> list[Panel]:
    with _lock:
        panels = list(_panels.values())
    return sorted(panels, key=lambda p: (p.order, p.title, p.id))
