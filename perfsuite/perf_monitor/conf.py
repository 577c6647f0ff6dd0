"""``PERFSUITE`` keys of perf_monitor (documented in docs/perf_monitor.md)."""

from __future__ import annotations

import ipaddress
from typing import Any

from perfsuite.core.conf import Option, register_defaults
from perfsuite.core.validators import (
    boolean,
    numbers_in,
    optional_str,
    positive_int,
    positive_number,
)


def _networks(value: Any) -> str | None:
    if not isinstance(value, list | tuple):
        return "must be a list of IP addresses or networks"
    for item in value:
        try:
            ipaddress.ip_network(str(item), strict=False)
        except ValueError:
            return f"has {item!r}, which is not an IP address or network"
    return None


def _origins(value: Any) -> str | None:
    """None, "*", or origins separated by spaces or commas: one header value."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        return "must be None, '*' or a string of origins"
    if any(ord(c) < 0x20 or ord(c) == 0x7F or not c.isascii() for c in value):
        return "must be printable ASCII: no CR, LF or other control characters"
    return None


def _details(value: Any) -> str | None:
    if value in ("none", "staff", "all"):
        return None
    if isinstance(value, list | tuple) and all(
        isinstance(o, str) and o.startswith(("http://", "https://")) for o in value
    ):
        return None
    return "must be 'none', 'staff', 'all' or a list of origins ('https://example.com')"


register_defaults(
    {
        "SERVER_TIMING": Option(True, boolean, "Add the Server-Timing header."),
        "SERVER_TIMING_DETAILS": Option(
            "none",
            _details,
            "Who sees the db/cache/render entries of Server-Timing besides 'total': "
            "'none', 'staff', 'all' or a list of origins (the request's Origin).",
        ),
        "SERVER_TIMING_MAX_ENTRIES": Option(
            20, positive_int, "At most this many detail entries (the rest are summed as 'other')."
        ),
        "RESPONSE_TIME_HEADER": Option(True, boolean, "Add X-Response-Time (seconds)."),
        "TIMING_ALLOW_ORIGIN": Option(None, _origins, "Timing-Allow-Origin value (opt-in)."),
        "RESOURCE_SAMPLE_INTERVAL": Option(5.0, positive_number, "Seconds between psutil samples."),
        "SLOW_REQUESTS_KEPT": Option(20, positive_int, "Slowest recent requests kept per process."),
        "PROMETHEUS_TOKEN": Option(None, optional_str, "Bearer token for the Prometheus URL."),
        "PROMETHEUS_COUNT_SCRAPES": Option(
            False, boolean, "Count Prometheus scrapes as requests of the site."
        ),
        "PROMETHEUS_ALLOWED_IPS": Option((), _networks, "Client IPs/networks for Prometheus."),
        "PROMETHEUS_BUCKETS": Option(
            (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            numbers_in(0, 1e6),
            "The le bounds (seconds) of exported histograms, moved up to sketch bucket edges.",
        ),
    }
)
