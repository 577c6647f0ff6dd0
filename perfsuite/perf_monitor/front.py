"""perf_monitor at the front door (``perfsuite.core.front``): a request answered
before Django's handler (a static file, an anonymous cache hit) is counted in the
latency histogram under its route, and carries ``Server-Timing`` (``total``) and
``X-Response-Time`` as the middleware would write them (no detail entries: no app
timed anything)."""

from __future__ import annotations

import time

from perfsuite.core.conf import perf_settings
from perfsuite.core.front import Answer

from .metrics import LATENCY, STANDARD_METHODS, sampler, slowest

_settings = perf_settings.as_dict
_time = time.time
#: status code -> its class label
_CLASSES = {code: f"{code // 100}xx" for code in range(100, 600)}


def observe(method: str, answer: Answer, elapsed: float) -> list[tuple[str, str]]:
    status = answer.status
    route = answer.route
    label = method if method in STANDARD_METHODS else "OTHER"
    LATENCY.labels(route, label, _CLASSES.get(status, "5xx")).observe(elapsed)
    slowest.offer(elapsed, route, label, status)
    sampler.maybe_sample(_time())
    settings = _settings()
    headers: list[tuple[str, str]] = []
    if settings["RESPONSE_TIME_HEADER"]:
        headers.append(("X-Response-Time", f"{elapsed:.3f}s"))
    if settings["SERVER_TIMING"]:
        headers.append(("Server-Timing", f"total;dur={elapsed * 1000:.3f}"))
        origin = settings["TIMING_ALLOW_ORIGIN"]
        if origin and not any(k.lower() == "timing-allow-origin" for k, _ in answer.headers):
            headers.append(("Timing-Allow-Origin", origin))
    return headers


def register_front() -> None:
    from perfsuite.core import front

    front.observe("perf_monitor", observe)


__all__ = ["observe", "register_front"]
