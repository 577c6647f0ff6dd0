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

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty

#: the representations :func:`normalized_accept` weighs an Accept header on
REPRESENTATIONS = ("text/html", "application/json", "application/xml", "text/plain")
#: the pseudo request header a page with a CSRF token varies on (not a valid name)
CSRF_VARY = "(csrf)"
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
        not settings.CSRF_USE_SESSIONS
        and bool(secret)
        and secret == request.COOKIES.get(settings.CSRF_COOKIE_NAME)
    )


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
    """The query without tracking parameters, sorted by name; repeated values keep
    their order (``?page=3&page=2`` is page 2 to ``GET.get``, never page 3)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _tracking(k, tracking)]
    return urlencode(sorted(kept, key=_name))


def _name(pair: tuple[str, str]) -> str:
    return pair[0]


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
    """How much an Accept header wants each of REPRESENTATIONS, as a short string.

    Browsers' many Accept strings that rank the representations alike share one
    value; ``*/*`` (a ``fetch()``) and ``text/html`` do not, so a view that
    negotiates without saying ``Vary: Accept`` still never serves JSON to a browser.
    """
    if not accept:
        accept = "*/*"  # RFC 9110: no Accept means any representation
    best: dict[str, tuple[int, float]] = {}
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
            if current is None or specificity > current[0]:
                best[rep] = (specificity, q)
    return ",".join(f"{best[rep][1]:g}" if rep in best else "0" for rep in REPRESENTATIONS)


def identity(request: HttpRequest) -> str | None:
    """Who is asking, resolved with the sync API (WSGI, sync views).

    The user's id, a per-session bucket for an anonymous session that holds data,
    or ``anon``; None when the user cannot be known here (the cache runs before
    AuthenticationMiddleware and the request may carry a session).
    """
    if not hasattr(request, "user"):
        return None if _maybe_session(request) else "anon"
    if _lazy_and_cookieless(request):
        return "anon"
    return _bucket(request, request.user)


async def aidentity(request: HttpRequest) -> str | None:
    """:func:`identity` with the async API: never a database read in the event loop."""
    if not hasattr(request, "user"):
        return None if _maybe_session(request) else "anon"
    if _lazy_and_cookieless(request):
        return "anon"
    auser = getattr(request, "auser", None)
    user = await auser() if auser is not None else request.user
    return _bucket(request, user)


def _lazy_and_cookieless(request: HttpRequest) -> bool:
    """AuthenticationMiddleware's lazy user with no session cookie: anonymous, no read."""
    user = request.user
    return (
        isinstance(user, SimpleLazyObject)
        and user._wrapped is empty
        and not _maybe_session(request)
    )


def _bucket(request: HttpRequest, user: Any) -> str:
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}"
    # Resolving the user loaded the session: is_empty() is now true for a forged or
    # expired cookie, which shares the anonymous bucket.
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
    """The request headers a response's ``Vary`` names, lower-cased and sorted."""
    vary = response.headers.get("Vary")
    if not vary:
        return ()
    return tuple(sorted({v.strip().lower() for v in vary.split(",") if v.strip()}))


def vary_values(
    request: HttpRequest, names: Iterable[str], ignored_cookies: Sequence[str]
) -> tuple[str, ...]:
    """What the request sends for each name, in the form variants are keyed on.

    ``cookie`` is the request's cookies less the session and CSRF cookies (the key
    has the user already) and ``ignored_cookies`` (analytics); :data:`CSRF_VARY` is
    the CSRF cookie a stored page's token belongs to; ``accept-encoding`` the
    known codings accepted. Long values are hashed.
    """
    out = []
    for name in names:
        if name == "cookie":
            value = _cookies(request, ignored_cookies)
        elif name == CSRF_VARY:
            secret = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
            value = digest(secret) if secret else ""
        elif name == "accept-encoding":
            value = _accepted_encodings(header(request, name))
        elif name == "accept":
            value = "".join(header(request, name).lower().split())
        else:
            value = header(request, name)
        out.append(value if len(value) <= 64 else digest(value))
    return tuple(out)


def _cookies(request: HttpRequest, ignored: Sequence[str]) -> str:
    skip = (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
    kept = sorted(
        (name, value)
        for name, value in request.COOKIES.items()
        if name not in skip and not _tracking(name, ignored)
    )
    return urlencode(kept)


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
