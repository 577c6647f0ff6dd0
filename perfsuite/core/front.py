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

A responder has a ``prefix`` (only paths under it are offered) and
``answer(method, path, meta)`` returning an :class:`Answer` or None (not mine);
``meta`` holds the request headers as WSGI names (``HTTP_IF_NONE_MATCH`` ...). It
must fail open: an exception is logged and the request goes to Django.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

logger = logging.getLogger("perfsuite.core")

_perf_counter = time.perf_counter


@dataclass(slots=True)
class Answer:
    """A complete response: a status, headers, then ``body`` or ``length`` bytes of
    ``file`` from ``start`` (the front door closes the file)."""

    status: int
    headers: list[tuple[str, str]]
    route: str
    body: bytes = b""
    file: BinaryIO | None = None
    start: int = 0
    length: int = 0
    chunk_size: int = 64 * 1024
    extra: dict[str, Any] = field(default_factory=dict)


class Responder(Protocol):
    prefix: str

    def answer(self, method: str, path: str, meta: Mapping[str, str]) -> Answer | None: ...


#: observer(method, answer, seconds) -> headers to add (perf_monitor: metrics, timing)
Observer = Callable[[str, Answer, float], Iterable[tuple[str, str]]]

_responders: dict[str, Callable[[], Responder | None]] = {}
_observers: dict[str, Observer] = {}
_lock = threading.Lock()


def register(name: str, factory: Callable[[], Responder | None]) -> None:
    """Register (or replace, by name) a responder, built on the first request
    (``factory`` may return None: nothing to answer with these settings)."""
    with _lock:
        _responders[name] = factory


def observe(name: str, observer: Observer) -> None:
    with _lock:
        _observers[name] = observer


def unregister(name: str) -> None:
    with _lock:
        _responders.pop(name, None)
        _observers.pop(name, None)


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
    return built


def answer_for(
    responders: list[Responder], method: str, path: str, meta: Mapping[str, str]
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
        if found is None:
            continue
        headers = found.headers
        if _observers:
            elapsed = _perf_counter() - start
            headers = list(headers)
            for name, observer in list(_observers.items()):
                try:
                    headers.extend(observer(method, found, elapsed))
                except Exception:
                    logger.warning("front door: observer %r failed", name, exc_info=True)
        return found, headers
    return None


def perfsuite_front(application: Any) -> Any:
    """Wrap a WSGI or ASGI application (Django's) in the front door."""
    from .front_servers import FrontASGI, FrontWSGI, is_asgi

    return FrontASGI(application) if is_asgi(application) else FrontWSGI(application)


__all__ = ["Answer", "Responder", "observe", "perfsuite_front", "register", "unregister"]
