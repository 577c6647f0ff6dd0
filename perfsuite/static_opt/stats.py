"""What static_opt records into the metrics registry, and the dashboard panel's figures.

- ``perfsuite_static_requests{status,encoding}``: responses by status and the
  negotiated coding (``identity``, ``br``, ``gzip``, ``zstd``; ``-`` when none).
- ``perfsuite_static_bytes_sent{encoding}``: body bytes of those responses.
- ``perfsuite_static_bytes_saved{encoding}``: for full responses in a coding, the
  original size minus the bytes sent.
"""

from __future__ import annotations

from typing import Any

from perfsuite.core import metrics

REQUESTS = "perfsuite_static_requests"
BYTES_SENT = "perfsuite_static_bytes_sent"
BYTES_SAVED = "perfsuite_static_bytes_saved"

_requests = metrics.counter(REQUESTS, "Static file responses", ("status", "encoding"))
_sent = metrics.counter(BYTES_SENT, "Body bytes of static file responses", ("encoding",))
_saved = metrics.counter(BYTES_SAVED, "Bytes saved by content coding", ("encoding",))

# (status, encoding) -> the three series; label lookups done once.
_series: dict[tuple[int, str], tuple[Any, Any, Any]] = {}


def record(status: int, encoding: str, sent: int, saved: int) -> None:
    series = _series.get((status, encoding))
    if series is None:
        series = _series[(status, encoding)] = (
            _requests.labels(str(status), encoding),
            _sent.labels(encoding),
            _saved.labels(encoding),
        )
    series[0].inc()
    if sent:
        series[1].inc(sent)
    if saved:
        series[2].inc(saved)


def figures(snapshot: Any) -> dict[str, Any]:
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
