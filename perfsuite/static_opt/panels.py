"""The "Static files" panel of the performance dashboard."""

from __future__ import annotations

from typing import Any

from perfsuite.core.panels import Panel

from . import stats


class StaticFilesPanel(Panel):
    id = "static_opt"
    title = "Static files"
    template_name = "perfsuite/static_opt/panel.html"
    order = 50

    def get_stats(self, snapshot: Any) -> dict[str, Any]:
        """Requests, 304 ratio, bytes sent per coding and bytes saved by compression."""
        return stats.figures(snapshot)
