"""N+1 findings: one SQL shape repeated in a request, with the line that ran it.

A finding is made when a shape reaches ``N_PLUS_ONE_THRESHOLD`` executions in one
request. Only then is the stack walked, for the first frame outside Django, the
suite and the standard library: the line of the loop. What happens next is
``N_PLUS_ONE_MODE``: ``off``, ``log`` (a warning in the ``perfsuite.query_opt``
logger), ``warn`` (a Python :class:`NPlusOneWarning`) or ``raise``
(:class:`NPlusOneError` from the query that crossed the threshold, for tests and
DEBUG). Routes or fingerprints in ``N_PLUS_ONE_ALLOW`` (prefixes) and blocks
inside :func:`~.instrumentation.silence_n_plus_one` are left alone.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import warnings
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from perfsuite.core.timing import route_of

from .instrumentation import QueryLog

logger = logging.getLogger("perfsuite.query_opt")

_SKIP = (
    os.sep + os.path.join("django", ""),
    os.sep + os.path.join("perfsuite", ""),
    os.sep + os.path.join("asgiref", ""),
    os.path.dirname(os.__file__) + os.sep,
)


class NPlusOneWarning(UserWarning):
    """A query shape repeated ``N_PLUS_ONE_THRESHOLD`` times in one request."""


class NPlusOneError(Exception):
    """Raised in ``N_PLUS_ONE_MODE = "raise"``."""


@dataclass(frozen=True, slots=True)
class Finding:
    route: str
    fingerprint: str
    count: int
    caller: str
    at: float

    def message(self) -> str:
        return (
            f"N+1 on {self.route}: the same query ran {self.count} times from {self.caller}: "
            f"{self.fingerprint[:200]}"
        )


#: the most recent findings of this process (the dashboard panel lists them)
recent: deque[Finding] = deque(maxlen=50)
_lock = threading.Lock()


def caller() -> str:
    """``file:line`` of the innermost frame outside Django, the suite and the stdlib."""
    frame: Any = sys._getframe(1)
    while frame is not None:
        path = frame.f_code.co_filename
        if not any(part in path for part in _SKIP) and "site-packages" not in path:
            try:
                path = os.path.relpath(path)
            except ValueError:  # another drive
                pass
            return f"{path}:{frame.f_lineno}"
        frame = frame.f_back
    return "unknown"


class Detector:
    """What a request's log does when a shape reaches the threshold."""

    def __init__(self, request: Any, mode: str, allow: tuple[str, ...]) -> None:
        self.request = request
        self.mode = mode
        self.allow = allow
        self.findings: list[Finding] = []

    def __call__(self, log: QueryLog, shape: str, count: int) -> None:
        if self.mode == "off":
            return
        route = route_of(self.request)
        if any(route.startswith(a) or shape.startswith(a) for a in self.allow if a):
            return
        finding = Finding(route, shape, count, caller(), time.time())
        self.findings.append(finding)
        with _lock:
            recent.append(finding)
        if self.mode == "raise":
            raise NPlusOneError(finding.message())
        if self.mode == "warn":
            warnings.warn(finding.message(), NPlusOneWarning, stacklevel=2)
        else:
            logger.warning(finding.message())


def recent_findings() -> list[dict[str, Any]]:
    with _lock:
        return [asdict(f) for f in reversed(recent)]
