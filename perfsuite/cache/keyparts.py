"""The parts of a request a page key and a variant key are made of (no I/O here).

Each part keeps apart what a view may answer differently, and nothing more:
tracking parameters, analytics cookies and browsers' different spellings of one
``Accept`` preference share an entry.
"""

from __future__ import annotations

import functools
import hashlib
import operator
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, urlencode

from django.http import HttpRequest, HttpResponseBase

from .settings_memo import setting

#: the representations :func:`normalized_accept` weighs an Accept header on
REPRESENTATIONS = ("text/html", "application/json", "application/xml", "text/plain")
#: the pseudo request header a page with a CSRF token varies on (not a valid name)
CSRF_VARY = "(csrf)"
_ENCODINGS = ("br", "deflate", "gzip", "zstd")


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
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _tracking(k, tracking)]
    return urlencode(sorted(kept, key=operator.itemgetter(0)))


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


@functools.lru_cache(maxsize=512)  # a handful of browsers' strings in practice
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
            secret = request.COOKIES.get(setting("CSRF_COOKIE_NAME"), "")
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
    skip = (setting("SESSION_COOKIE_NAME"), setting("CSRF_COOKIE_NAME"))
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
