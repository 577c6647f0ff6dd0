"""``PERFSUITE`` keys of the response cache (documented in docs/cache.md)."""

from __future__ import annotations

from typing import Any

from perfsuite.core.conf import Option, register_defaults
from perfsuite.core.validators import (
    boolean,
    choice,
    non_empty_str,
    non_negative_number,
    positive_int,
    positive_number,
    str_list,
)


def _status_ttls(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must be a dict {status code: max TTL seconds or None}"
    for status, ttl in value.items():
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status < 600:
            return f"has {status!r}, which is not an HTTP status code"
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0):
            return f"maps {status} to {ttl!r}; use None or a number of seconds >= 0"
    return None


register_defaults(
    {
        "CACHE_ALIAS": Option(
            "default", non_empty_str, "Django cache alias of the response cache."
        ),
        "CACHE_DEFAULT_TTL": Option(300, positive_int, "TTL when the response sets no max-age."),
        "CACHE_MAX_TTL": Option(7 * 86400, positive_int, "Upper bound of any TTL."),
        "CACHE_STATUS_TTLS": Option(
            {200: None, 301: None, 404: 60}, _status_ttls, "Cacheable statuses and their max TTL."
        ),
        "CACHE_TRACKING_PARAMS": Option(
            ("utm_*", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "_ga", "_gl"),
            str_list,
            "Query parameters dropped from the key (trailing * matches a prefix).",
        ),
        "CACHE_KEY_PREFIX": Option("perfsuite:rc", non_empty_str, "Namespace of every key."),
        "CACHE_EXCLUDE_PATHS": Option(("/admin/",), str_list, "Path prefixes never cached."),
        "CACHE_TRUST_NO_CACHE": Option(
            "staff",
            choice("staff", "all", "none"),
            "Who may force a refresh with Cache-Control: no-cache.",
        ),
        "CACHE_ALLOW_AUTHORIZATION": Option(
            False, boolean, "Cache requests that carry an Authorization header."
        ),
        "CACHE_STALE_WHILE_REVALIDATE": Option(
            30,
            non_negative_number,
            "Seconds a stale entry may be served while one request refreshes it.",
        ),
        "CACHE_LOCK_TIMEOUT": Option(10, positive_int, "Seconds a render lock lives at most."),
        "CACHE_LOCK_WAIT": Option(
            5.0, non_negative_number, "Seconds a request waits for another's render."
        ),
        "CACHE_WARNING_INTERVAL": Option(
            60, positive_int, "Seconds between two backend-failure warnings."
        ),
        "CACHE_SOCKET_TIMEOUT": Option(
            0.5,
            positive_number,
            "Connect and read timeout (seconds) on Redis when the alias sets none.",
        ),
        "CACHE_BREAKER_BASE": Option(
            1.0, positive_number, "Seconds the backend is skipped after a first failure."
        ),
        "CACHE_BREAKER_MAX": Option(
            30.0, positive_number, "Longest skip after repeated failures (doubling up to it)."
        ),
        "CACHE_IGNORED_COOKIES": Option(
            (
                "_ga",
                "_ga_*",
                "_gid",
                "_gat*",
                "_gcl_*",
                "_fbp",
                "_fbc",
                "_hj*",
                "_clck",
                "_clsk",
                "ajs_*",
                "mp_*",
                "__utm*",
                "_pk_*",
                "_uetsid",
                "_uetvid",
            ),
            str_list,
            "Cookies a page never depends on (trailing * matches a prefix): they do not "
            "split entries of pages that say Vary: Cookie.",
        ),
    }
)
