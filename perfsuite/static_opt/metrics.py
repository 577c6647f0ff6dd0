"""static_opt's metrics and what it records into them.

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
