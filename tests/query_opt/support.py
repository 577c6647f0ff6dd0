"""What the request-level query_opt tests share: their middleware and the line of a marked
statement in tests/query_opt/urls.py (the ``posts`` fixture is in conftest.py)."""

from __future__ import annotations

from pathlib import Path

URLS = Path(__file__).with_name("urls.py")
MIDDLEWARE = [
    "perfsuite.perf_monitor.middleware.PerformanceMiddleware",
    "perfsuite.query_opt.middleware.QueryInstrumentationMiddleware",
]


def line_of(marker: str) -> str:
    """``file:line`` of ``marker`` in the test views, or in their template."""
    for source in (URLS, URLS.parent / "templates" / "n_plus_one.html"):
        for number, line in enumerate(source.read_text().splitlines(), 1):
            if marker in line:
                return f"{source.relative_to(URLS.parents[2])}:{number}"
    raise AssertionError(marker)
