"""What may be cached, for how long, and under which key (no I/O here).

The rules, each with the reason recorded in metrics when a response is not stored:

- only GET and HEAD (each with entries of its own): ``method``
- statuses listed in ``CACHE_STATUS_TTLS``: ``status``
- never a streaming response: ``streaming``
- never a response that sets a cookie, modified the session, rendered a CSRF token
  that a new cookie goes out with, or used a CSP nonce: ``set-cookie``, ``session``,
  ``csrf``, ``csp-nonce`` (a token from the request's own CSRF cookie is stored for
  that cookie only: see :func:`csrf_keyable`)
- never ``Cache-Control: private`` / ``no-store`` / ``no-cache``: the directive's name
- never ``Vary: *``: ``vary-star``
- TTL from ``s-maxage``, then ``max-age``, else ``CACHE_DEFAULT_TTL``; 0 means not
  stored: ``ttl-zero``
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import empty

from .settings_memo import setting

_directive = re.compile(r"\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*(?:=\s*(\"[^\"]*\"|[^,\s]*))?\s*")


def cache_control(value: str | None) -> dict[str, list[str | None]]:
    """Directives of a Cache-Control value, lower-cased, every occurrence kept."""
    out: dict[str, list[str | None]] = {}
    if not value:
        return out
    for part in value.split(","):
        match = _directive.fullmatch(part)
        if not match:
            continue
        name, arg = match.group(1).lower(), match.group(2)
        if arg is not None and arg.startswith('"'):
            arg = arg[1:-1]
        out.setdefault(name, []).append(arg)
    return out


def _seconds(args: list[str | None] | None) -> int | None:
    """A delta-seconds directive: None when absent or unusable; duplicates take the smallest."""
    if not args:
        return None
    values = []
    for arg in args:
        if arg is None or not arg.isdigit():
            if arg is not None and arg.startswith("-") and arg[1:].isdigit():
                values.append(0)  # a negative age is stale at once
            continue
        values.append(int(arg))
    return min(values) if values else None


def ttl_for(directives: dict[str, list[str | None]], default: int, maximum: int) -> int:
    for name in ("s-maxage", "max-age"):
        seconds = _seconds(directives.get(name))
        if seconds is not None:
            return min(seconds, maximum)
    return min(default, maximum)


def stale_window(directives: dict[str, list[str | None]], default: float) -> float:
    seconds = _seconds(directives.get("stale-while-revalidate"))
    return float(seconds) if seconds is not None else float(default)


def request_no_cache(request: HttpRequest) -> bool:
    meta = request.META
    if "HTTP_CACHE_CONTROL" not in meta and "HTTP_PRAGMA" not in meta:
        return False
    directives = cache_control(meta.get("HTTP_CACHE_CONTROL"))
    if "no-cache" in directives or _seconds(directives.get("max-age")) == 0:
        return True
    return "no-cache" in meta.get("HTTP_PRAGMA", "").lower()


def uncacheable_reason(
    request: HttpRequest, response: HttpResponseBase, status_ttls: dict[int, Any]
) -> str | None:
    if request.method not in ("GET", "HEAD"):
        return "method"
    if response.status_code not in status_ttls:
        return "status"
    if response.streaming:
        return "streaming"
    if response.cookies:
        return "set-cookie"
    session = getattr(request, "session", None)
    if session is not None and getattr(session, "modified", False):
        return "session"
    if csrf_used(request) and not csrf_keyable(request):
        return "csrf"
    messages = getattr(request, "_messages", None)
    if messages is not None and getattr(messages, "used", False):
        return "messages"
    nonce = getattr(request, "_csp_nonce", None)
    if nonce is not None and _nonce_used(nonce):
        return "csp-nonce"
    directives = cache_control(response.headers.get("Cache-Control"))
    for name in ("private", "no-store", "no-cache"):
        if name in directives:
            return name
    vary = response.headers.get("Vary", "")
    if "*" in (v.strip() for v in vary.split(",")):
        return "vary-star"
    return None


def csrf_used(request: HttpRequest) -> bool:
    """Did the view render a CSRF token? (``get_token`` flags the cookie for update.)"""
    return bool(request.META.get("CSRF_COOKIE_NEEDS_UPDATE"))


def csrf_keyable(request: HttpRequest) -> bool:
    """Can a page with this request's CSRF token be stored for the same CSRF cookie?

    Yes when the token's secret is the one in the CSRF cookie the request carries:
    the page is then served only to requests with that cookie (the
    :data:`CSRF_VARY` variant), for which the token is valid. No when the secret
    is new (first visit, a malformed cookie, a rotation at login), or lives in the
    session (``CSRF_USE_SESSIONS``).
    """
    secret = request.META.get("CSRF_COOKIE")
    return (
        not setting("CSRF_USE_SESSIONS")
        and bool(secret)
        and secret == request.COOKIES.get(setting("CSRF_COOKIE_NAME"))
    )


def _nonce_used(nonce: Any) -> bool:
    wrapped = getattr(nonce, "_wrapped", None)
    if wrapped is None:  # a plain string (django-csp) is set only once used
        return bool(nonce)
    return wrapped is not empty
