"""The front door: what an installed app can answer before Django's handler runs.

    # wsgi.py                                   # asgi.py
    application = perfsuite_front(              application = perfsuite_front(
        get_wsgi_application())                     get_asgi_application())

Apps register *front responders* in ``ready()`` (static_opt: the files of its
index). A request whose path one of them answers never reaches Django: no request
object, no middleware, no URL resolution, under ASGI no thread hop. Everything
else goes to the wrapped application untouched. Observers (perf_monitor) see every
answered request, to record it and to add their headers (``Server-Timing``).
Off unless the application is wrapped; no setting of its own.

A responder has a ``prefix`` (only paths under it are offered), an ``order``
(lower first: static files before the response cache's lookup) and
``answer(method, path, environ)`` returning an :class:`Answer` or None (not mine);
``environ`` is the WSGI environ (under ASGI, one built from the scope: headers as
``HTTP_*``, ``QUERY_STRING``, ``SERVER_NAME`` ...). An ``async def aanswer`` is used
under ASGI when the responder has one. It must fail open: an exception is logged and
the request goes to Django.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

logger = logging.getLogger("perfsuite.core")

_perf_counter = time.perf_counter


@dataclass(slots=True)
class Answer:
    """A complete response: a status, headers (a list of the answer's own: observers
    extend it), then ``body`` or ``length`` bytes of ``file`` from ``start`` (the front
    door closes the file)."""

    status: int
    headers: list[tuple[str, str]]
    route: str
    body: bytes = b""
    file: BinaryIO | None = None
    start: int = 0
    length: int = 0
    chunk_size: int = 64 * 1024


class Responder(Protocol):
    prefix: str
    order: int

    def answer(self, method: str, path: str, meta: Mapping[str, Any]) -> Answer | None: ...


#: observer(method, answer, seconds) -> headers to add (perf_monitor: metrics, timing)
Observer = Callable[[str, Answer, float], Iterable[tuple[str, str]]]

_responders: dict[str, Callable[[], Responder | None]] = {}
_observers: dict[str, Observer] = {}
#: the observers as a tuple, read on every answered request (rebuilt on a change)
_observing: tuple[tuple[str, Observer], ...] = ()
_lock = threading.Lock()


def register(name: str, factory: Callable[[], Responder | None]) -> None:
    """Register (or replace, by name) a responder, built on the first request
    (``factory`` may return None: nothing to answer with these settings)."""
    with _lock:
        _responders[name] = factory


def observe(name: str, observer: Observer) -> None:
    global _observing
    with _lock:
        _observers[name] = observer
        _observing = tuple(_observers.items())


def unregister(name: str) -> None:
    global _observing
    with _lock:
        _responders.pop(name, None)
        _observers.pop(name, None)
        _observing = tuple(_observers.items())


def build_responders() -> list[Responder]:
    """Every registered responder for the current settings, in registration order."""
    with _lock:
        factories = list(_responders.items())
    built = []
    for name, factory in factories:
        try:
            responder = factory()
        except Exception:
            logger.warning("front door: responder %r failed to start", name, exc_info=True)
            continue
        if responder is not None:
            built.append(responder)
    return sorted(built, key=lambda r: getattr(r, "order", 100))


def answer_for(
    responders: list[Responder], method: str, path: str, meta: Mapping[str, Any]
) -> tuple[Answer, list[tuple[str, str]]] | None:
    """The first answer a responder gives, with the observers' headers added."""
    for responder in responders:
        if not path.startswith(responder.prefix):
            continue
        start = _perf_counter()
        try:
            found = responder.answer(method, path, meta)
        except Exception:  # fail open: Django answers as if we were absent
            logger.warning("front door: %r failed on %s", responder, path, exc_info=True)
            continue
        if found is not None:
            return found, observed(method, found, _perf_counter() - start)
    return None


async def aanswer_for(
    responders: list[Responder], method: str, path: str, meta: Mapping[str, Any]
) -> tuple[Answer, list[tuple[str, str]]] | None:
    """:func:`answer_for` under ASGI: a responder's ``aanswer`` when it has one."""
    for responder in responders:
        if not path.startswith(responder.prefix):
            continue
        start = _perf_counter()
        try:
            aanswer = getattr(responder, "aanswer", None)
            if aanswer is not None:
                found = await aanswer(method, path, meta)
            else:
                found = responder.answer(method, path, meta)
        except Exception:
            logger.warning("front door: %r failed on %s", responder, path, exc_info=True)
            continue
        if found is not None:
            return found, observed(method, found, _perf_counter() - start)
    return None


def observed(method: str, found: Answer, elapsed: float) -> list[tuple[str, str]]:
    """The answer's headers and those the observers add."""
    headers = found.headers  # the responder's own list: extended in place
    for name, observer in _observing:
        try:
            headers.extend(observer(method, found, elapsed))
        except Exception:
            logger.warning("front door: observer %r failed", name, exc_info=True)
    return headers


def security_headers() -> list[tuple[str, str]]:
    """What Django's SecurityMiddleware (when installed) adds to every response, which
    an answer given before it must carry itself: ``nosniff``, the referrer and
    cross-origin opener policies (HSTS is for the TLS proxy)."""
    from django.conf import settings

    if "django.middleware.security.SecurityMiddleware" not in settings.MIDDLEWARE:
        return []
    headers = []
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    policy = settings.SECURE_REFERRER_POLICY
    if policy:
        value = policy if isinstance(policy, str) else ",".join(policy)
        headers.append(("Referrer-Policy", value))
    opener = settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
    if opener:
        headers.append(("Cross-Origin-Opener-Policy", opener))
    return headers


def perfsuite_front(application: Any) -> Any:
    """Wrap a WSGI or ASGI application (Django's) in the front door."""
    from .front_servers import FrontASGI, FrontWSGI, is_asgi

    return FrontASGI(application) if is_asgi(application) else FrontWSGI(application)


__all__ = [
    "Answer",
    "Responder",
    "observe",
    "perfsuite_front",
    "register",
    "security_headers",
    "unregister",
]
