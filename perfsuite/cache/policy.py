"""What may be cached, for how long, and under which key (no I/O here).

The rules, each with the reason recorded in metrics when a response is not stored:

- only GET and HEAD (HEAD shares GET's entry): ``method``
- statuses listed in ``CACHE_STATUS_TTLS``: ``status``
- never a streaming response: ``streaming``
- never a response that sets a cookie, modified the session, rendered a CSRF token
  for this user or used a CSP nonce: ``set-cookie``, ``session``, ``csrf``, ``csp-nonce``
- never ``Cache-Control: private`` / ``no-store`` / ``no-cache``: the directive's name
- never ``Vary: *``: ``vary-star``
- TTL from ``s-maxage``, then ``max-age``, else ``CACHE_DEFAULT_TTL``; 0 means not
  stored: ``ttl-zero``
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty

#: representations an Accept header is normalised to (best q wins, html on ties)
REPRESENTATIONS = ("text/html", "application/json", "application/xml", "text/plain")
#: Vary headers already covered by the key itself (identity, normalised Accept)
KEYED_VARY = frozenset(("cookie", "accept"))
_ENCODINGS = ("br", "deflate", "gzip", "zstd")

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
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE") or request.META.get("CSRF_COOKIE_USED"):
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


def _nonce_used(nonce: Any) -> bool:
    wrapped = getattr(nonce, "_wrapped", None)
    if wrapped is None:  # a plain string (django-csp) is set only once used
        return bool(nonce)
    return wrapped is not empty


def _tracking(name: str, patterns: Sequence[str]) -> bool:
    for pattern in patterns:
        if pattern.endswith("*"):
            if name.startswith(pattern[:-1]):
                return True
        elif name == pattern:
            return True
    return False


def normalized_query(query: str, tracking: Sequence[str]) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode(sorted((k, v) for k, v in pairs if not _tracking(k, tracking)))


def _q(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                return 0.0
            return q if 0 <= q <= 1 else 0.0
    return 1.0


def normalized_accept(accept: str | None) -> str:
    """The representation an Accept header selects among REPRESENTATIONS."""
    if not accept:
        return REPRESENTATIONS[0]
    best: dict[str, tuple[float, int]] = {}
    for item in accept.split(",")[:50]:
        media, _, params = item.partition(";")
        media = media.strip().lower()
        q = _q(params)
        for rep in REPRESENTATIONS:
            typ = rep.split("/")[0]
            specificity = (
                2 if media == rep else 1 if media == f"{typ}/*" else 0 if media == "*/*" else -1
            )
            if specificity < 0:
                continue
            current = best.get(rep)
            if current is None or specificity > current[1]:
                best[rep] = (q, specificity)
    choices = [(q, -REPRESENTATIONS.index(rep), rep) for rep, (q, _s) in best.items() if q > 0]
    if not choices:
        return "none"
    return max(choices)[2]


def identity(request: HttpRequest) -> str | None:
    """The user's id, a per-session bucket for anonymous sessions with data, or ``anon``.

    None when the user cannot be known here: the cache runs before
    AuthenticationMiddleware and the request carries a session cookie.
    """
    if not hasattr(request, "user"):
        return None if _maybe_session(request) else "anon"
    user = request.user
    if (
        isinstance(user, SimpleLazyObject)
        and user._wrapped is empty
        and not _maybe_session(request)
    ):
        # AuthenticationMiddleware's lazy user with no session cookie is anonymous:
        # no need to load the session to know it.
        return "anon"
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}"
    session = getattr(request, "session", None)
    if session is not None and session.session_key and not session.is_empty():
        digest = hashlib.sha256(session.session_key.encode()).hexdigest()[:16]
        return f"s:{digest}"
    return "anon"


def _maybe_session(request: HttpRequest) -> bool:
    """Could this request carry a session or a remote user? (A false yes is only slower.)"""
    meta = request.META
    return (
        f"{settings.SESSION_COOKIE_NAME}=" in meta.get("HTTP_COOKIE", "") or "REMOTE_USER" in meta
    )


def header(request: HttpRequest, name: str) -> str:
    """A request header by its lower-case name, read from META (no HttpHeaders built)."""
    key = name.upper().replace("-", "_")
    if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        key = "HTTP_" + key
    return request.META.get(key, "")


def vary_headers(response: HttpResponseBase) -> tuple[str, ...]:
    vary = response.headers.get("Vary")
    if not vary:
        return ()
    names = {v.strip().lower() for v in vary.split(",") if v.strip()}
    return tuple(sorted(names - KEYED_VARY))


def vary_values(request: HttpRequest, names: Iterable[str]) -> tuple[str, ...]:
    return tuple(
        _accepted_encodings(header(request, name))
        if name == "accept-encoding"
        else header(request, name)
        for name in names
    )


def _accepted_encodings(header: str | None) -> str:
    """Accept-Encoding reduced to the known codings it accepts, so browsers share entries."""
    if not header:
        return ""
    accepted = set()
    for item in header.lower().split(",")[:20]:
        coding, _, params = item.partition(";")
        coding = coding.strip()
        if coding in _ENCODINGS and _q(params) > 0:
            accepted.add(coding)
    return ",".join(sorted(accepted))


def digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:40]
