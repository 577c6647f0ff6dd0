"""Who is asking: the part of a page key that keeps users apart.

The user's id, a per-session bucket for an anonymous session that holds data, or
the one shared anonymous bucket. :func:`aidentity` resolves the user with the
async API, so under ASGI no database read runs inside the event loop.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject, empty

from .settings_memo import setting


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
    user: Any = request.user
    return (
        isinstance(user, SimpleLazyObject)
        and getattr(user, "_wrapped", None) is empty
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
        f"{setting('SESSION_COOKIE_NAME')}=" in meta.get("HTTP_COOKIE", "") or "REMOTE_USER" in meta
    )
