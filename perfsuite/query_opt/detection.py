"""Query findings: N+1 queries and unused eager loads, with the line that ran them.

An **N+1** finding is made when a shape reaches ``N_PLUS_ONE_THRESHOLD`` executions
in one request. Only then is the stack walked, for the first frame outside Django,
the suite and the standard library: the line of the loop. An **unused eager load**
(a ``select_related`` / ``prefetch_related`` whose objects the request never read,
tracked by :mod:`.eager`) is reported when the response is done, with the line of
the query that loaded it.

What happens next is the mode (``N_PLUS_ONE_MODE``; ``UNUSED_EAGER_MODE`` for unused
eager loads, by default the same): ``off``, ``log`` (a warning in the
``perfsuite.query_opt`` logger), ``warn`` (a Python :class:`NPlusOneWarning` /
:class:`UnusedEagerLoadWarning`) or ``raise`` (:class:`NPlusOneError` from the query
that crossed the threshold, :class:`UnusedEagerLoadError` at the end of the request;
for tests and DEBUG). Routes or fingerprints in ``N_PLUS_ONE_ALLOW`` (prefixes) and
blocks inside :func:`~.instrumentation.silence_n_plus_one` are left alone, for both.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from perfsuite.core.timing import route_of

from .callers import caller, request_boundary
from .instrumentation import QueryLog

__all__ = ["caller", "request_boundary"]  # their home was here

logger = logging.getLogger("perfsuite.query_opt")

#: the kinds of findings (``Finding.kind``)
N_PLUS_ONE = "n_plus_one"
UNUSED_EAGER_LOAD = "unused_eager_load"


class QueryFindingWarning(UserWarning):
    """A finding in ``"warn"`` mode (the base of both kinds)."""


class QueryFindingError(Exception):
    """A finding in ``"raise"`` mode (the base of both kinds)."""


class NPlusOneWarning(QueryFindingWarning):
    """A query shape repeated ``N_PLUS_ONE_THRESHOLD`` times in one request."""


class NPlusOneError(QueryFindingError):
    """Raised in ``N_PLUS_ONE_MODE = "raise"``."""


class UnusedEagerLoadWarning(QueryFindingWarning):
    """A ``select_related`` / ``prefetch_related`` whose objects were never read."""


class UnusedEagerLoadError(QueryFindingError):
    """Raised at the end of the request in ``UNUSED_EAGER_MODE = "raise"``."""


@dataclass(frozen=True, slots=True)
class Finding:
    route: str
    fingerprint: str
    #: N+1: times the shape ran; unused eager load: objects the relation was loaded for
    count: int
    caller: str
    at: float
    kind: str = N_PLUS_ONE
    #: unused eager load: ``app.Model.relation`` and how (``select_related`` ...)
    relation: str = ""
    via: str = ""

    def message(self) -> str:
        if self.kind == UNUSED_EAGER_LOAD:
            return (
                f"Unused eager load on {self.route}: {self.via}({self.relation!r}) loaded "
                f"{self.count} times from {self.caller} and never read: "
                f"{self.fingerprint[:200]}"
            )
        return (
            f"N+1 on {self.route}: the same query ran {self.count} times from {self.caller}: "
            f"{self.fingerprint[:200]}"
        )


#: the most recent findings of this process (the dashboard panel lists them)
recent: deque[Finding] = deque(maxlen=50)
_lock = threading.Lock()


class Detector:
    """What a request's log does when a shape reaches the threshold, and with the
    unused eager loads it is told of at the end of the request."""

    def __init__(
        self,
        request: Any,
        mode: str,
        allow: tuple[str, ...],
        unused_mode: str | None = None,
    ) -> None:
        self.request = request
        self.mode = mode
        self.unused_mode: str = (
            mode if unused_mode is None or unused_mode == "inherit" else unused_mode
        )
        self.allow = allow
        self.findings: list[Finding] = []

    def allowed(self, route: str, shape: str) -> bool:
        return any(route.startswith(a) or shape.startswith(a) for a in self.allow if a)

    def __call__(self, log: QueryLog, shape: str, count: int) -> None:
        if self.mode == "off":
            return
        route = route_of(self.request)
        if self.allowed(route, shape):
            return
        where = caller(task=log.task, templates=True)
        finding = Finding(route, shape, count, where, time.time())
        self._report(finding, self.mode, NPlusOneWarning, NPlusOneError)

    def unused(self, loads: Iterable[tuple[str, str, str, str, int]]) -> list[Finding]:
        """Findings of the unused eager loads given as (relation, via, fingerprint,
        caller, count), logged or warned as the mode says (see :meth:`raise_for`)."""
        if self.unused_mode == "off":
            return []
        route = route_of(self.request)
        made: list[Finding] = []
        for relation, via, shape, where, count in loads:
            if self.allowed(route, shape):
                continue
            finding = Finding(
                route, shape, count, where, time.time(), UNUSED_EAGER_LOAD, relation, via
            )
            made.append(finding)
            self._report(finding, self.unused_mode, UnusedEagerLoadWarning, None)
        return made

    def raise_for(self, unused: list[Finding]) -> None:
        """In ``"raise"`` mode, :class:`UnusedEagerLoadError` naming every one."""
        if unused and self.unused_mode == "raise":
            raise UnusedEagerLoadError("; ".join(f.message() for f in unused))

    def _report(
        self,
        finding: Finding,
        mode: str,
        warning: type[Warning],
        error: type[Exception] | None,
    ) -> None:
        self.findings.append(finding)
        with _lock:
            recent.append(finding)
        if mode == "raise":
            if error is not None:
                raise error(finding.message())
        elif mode == "warn":
            warnings.warn(finding.message(), warning, stacklevel=3)
        else:
            logger.warning(finding.message())


def recent_findings() -> list[dict[str, Any]]:
    with _lock:
        return [asdict(f) for f in reversed(recent)]
