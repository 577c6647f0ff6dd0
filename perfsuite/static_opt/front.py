"""static_opt at the front door (``perfsuite.core.front``): the files of the index
answered before Django's handler, with the headers, preconditions, ranges and
codings of :class:`~.middleware.StaticFilesMiddleware` (one engine serves both)."""

from __future__ import annotations

from collections.abc import Mapping

from perfsuite.core.front import Answer, security_headers

from .engine.responder import StaleFile
from .middleware import STATIC_ROUTE
from .serving import StaticFiles, record


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
        server = self.server
        name = path[self._cut :]
        asset = server.find(name) if server.debug else server.assets.get(name)
        if asset is None:
            return None  # Django answers (the URL resolver's 404)
        responder = server.responder
        for _attempt in range(2):
            outcome = responder.respond(asset, method, meta)  # type: ignore[arg-type]
            if outcome is None:
                server.live.pop(name, None)
                return None
            status, store, variant, start, length = outcome
            headers = [*store.values(), *self.security]
            try:
                if variant is None or length == 0:
                    answer = Answer(status, headers, STATIC_ROUTE)
                else:
                    data = responder.body(variant)
                    if data is not None:
                        body = data if length == len(data) else data[start : start + length]
                        answer = Answer(status, headers, STATIC_ROUTE, body=body)
                    else:
                        answer = Answer(
                            status,
                            headers,
                            STATIC_ROUTE,
                            file=responder.open(variant),
                            start=start,
                            length=length,
                            chunk_size=responder.options.chunk_size,
                        )
            except StaleFile:
                responder.invalidate(asset)
                continue
            record(outcome)
            return answer
        return None


def register_front() -> None:
    from perfsuite.core import front

    front.register("static_opt", StaticFront.from_settings)


__all__ = ["STATIC_ROUTE", "StaticFront", "register_front"]
