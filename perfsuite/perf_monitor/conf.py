"""``PERFSUITE`` keys of perf_monitor (documented in docs/perf_monitor.md)."""

from __future__ import annotations

import ipaddress
from typing import Any

from perfsuite.core.conf import (
    Option,
    optional_str,
    positive_int,
    positive_number,
    register_defaults,
)


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be True or False"


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


register_defaults(
    {
        "SERVER_TIMING": Option(True, _bool, "Add the Server-Timing header."),
        "RESPONSE_TIME_HEADER": Option(True, _bool, "Add X-Response-Time (seconds)."),
        "TIMING_ALLOW_ORIGIN": Option(None, _origins, "Timing-Allow-Origin value (opt-in)."),
        "RESOURCE_SAMPLE_INTERVAL": Option(5.0, positive_number, "Seconds between psutil samples."),
        "SLOW_REQUESTS_KEPT": Option(20, positive_int, "Slowest recent requests kept per process."),
        "PROMETHEUS_TOKEN": Option(None, optional_str, "Bearer token for the Prometheus URL."),
        "PROMETHEUS_ALLOWED_IPS": Option((), _networks, "Client IPs/networks for Prometheus."),
    }
)
