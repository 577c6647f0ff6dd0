"""The "Static files" panel of the performance dashboard, and the figures it shows."""

from __future__ import annotations

from typing import Any

from perfsuite.core.panels import Panel
from perfsuite.core.stores.base import Snapshot

from .metrics import BYTES_SAVED, BYTES_SENT, REQUESTS


class StaticFilesPanel(Panel):
    id = "static_opt"
    title = "Static files"
    template_name = "perfsuite/static_opt/panel.html"
    order = 50

    def get_stats(self, snapshot: Snapshot) -> dict[str, Any]:
        """Requests, 304 ratio, bytes sent per coding and bytes saved by compression."""
        return figures(snapshot)


def figures(snapshot: Snapshot) -> dict[str, Any]:
    """The panel's figures from one metrics snapshot."""
    requests = snapshot.counter_total(REQUESTS)
    not_modified = snapshot.counter_total(REQUESTS, status="304")
    rows: dict[str, dict[str, float]] = {}
    for name, key in ((REQUESTS, "responses"), (BYTES_SENT, "sent"), (BYTES_SAVED, "saved")):
        for series in snapshot.series(name):
            encoding = series.labels.get("encoding", "")
            if encoding == "-":
                continue
            row = rows.setdefault(encoding, {"responses": 0, "sent": 0, "saved": 0})
            row[key] += series.value or 0
    sent = sum(row["sent"] for row in rows.values())
    saved = sum(row["saved"] for row in rows.values())
    return {
        "requests": int(requests),
        "not_modified": int(not_modified),
        "not_modified_ratio": not_modified / requests if requests else 0.0,
        "bytes_sent": int(sent),
        "bytes_saved": int(saved),
        "saved_ratio": saved / (sent + saved) if sent + saved else 0.0,
        "encodings": [
            {"encoding": enc, **{k: int(v) for k, v in row.items()}}
            for enc, row in sorted(rows.items())
        ],
    }
