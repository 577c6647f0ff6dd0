"""static_opt at the front door (``perfsuite.core.front``): the files of the index
answered before Django's handler, with the headers, preconditions, ranges and
codings of :class:`~.middleware.StaticFilesMiddleware` (one engine serves both)."""

from __future__ import annotations

from collections.abc import Mapping

from perfsuite.core.front import Answer, security_headers

from .engine.responder import Outcome
from .middleware import STATIC_ROUTE
from .serving import StaticFiles


class StaticFront:
    """A front responder over this project's :class:`~.serving.StaticFiles`."""

    def __init__(self, server: StaticFiles) -> None:
        self.server = server
        self.prefix = server.prefix
        self._cut = len(server.prefix)
        self.order = 10  # before the response cache's lookup
        self.security = security_headers()

    @classmethod
    def from_settings(cls) -> StaticFront | None:
        server = StaticFiles.from_settings()
        return cls(server) if server is not None else None

    def __repr__(self) -> str:
        return f"<StaticFront {self.prefix}>"

    def answer(self, method: str, path: str, meta: Mapping[str, str]) -> Answer | None:
        # not in the index: None, and Django answers (the URL resolver's 404)
        return self.server.serve_with(path[self._cut :], method, meta, self._answer)

    def _answer(self, outcome: Outcome) -> Answer:
        status, store, variant, start, length = outcome
        headers = [*store.values(), *self.security]
        if variant is None or length == 0:
            return Answer(status, headers, STATIC_ROUTE)
        responder = self.server.responder
        data = responder.body(variant)  # StaleFile: serve_with reads the file again
        if data is not None:
            body = data if length == len(data) else data[start : start + length]
            return Answer(status, headers, STATIC_ROUTE, body=body)
        return Answer(
            status,
            headers,
            STATIC_ROUTE,
            file=responder.open(variant),
            start=start,
            length=length,
            chunk_size=responder.options.chunk_size,
        )


def register_front() -> None:
    from perfsuite.core import front

    front.register("static_opt", StaticFront.from_settings)


__all__ = ["STATIC_ROUTE", "StaticFront", "register_front"]
