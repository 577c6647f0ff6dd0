"""perf_monitor at the front door (``perfsuite.core.front``): a request answered
before Django's handler (a static file, an anonymous cache hit) is counted in the
latency histogram under its route, and carries ``Server-Timing`` (``total``) and
``X-Response-Time`` as the middleware would write them (no detail entries: no app
timed anything)."""

from __future__ import annotations

import time

from perfsuite.core.conf import perf_settings
from perfsuite.core.front import Answer

from .metrics import STANDARD_METHODS, record_answer
from .middleware import timing_headers


def observe(method: str, answer: Answer, elapsed: float) -> list[tuple[str, str]]:
    label = method if method in STANDARD_METHODS else "OTHER"
    record_answer(answer.route, label, answer.status, elapsed, time.time())
    settings = perf_settings.as_dict()
    headers = timing_headers(settings, elapsed)
    if settings["TIMING_ALLOW_ORIGIN"] and any(
        k.lower() == "timing-allow-origin" for k, _ in answer.headers
    ):  # the answer's own (a cached page's) wins
        headers = [h for h in headers if h[0] != "Timing-Allow-Origin"]
    return headers


def register_front() -> None:
    from perfsuite.core import front

    front.observe("perf_monitor", observe)


__all__ = ["observe", "register_front"]
