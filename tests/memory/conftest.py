from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from perfsuite.core import metrics

FIXTURES = Path(__file__).parent / "fixtures"
MIDDLEWARE = "perfsuite.memory.middleware.MemoryMiddleware"
SIGNED_IN_STACK = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    MIDDLEWARE,
]


def perfsuite(**keys: Any) -> dict[str, Any]:
    """The test run's ``PERFSUITE`` with these memory keys (``MEMORY_`` left out)."""
    return {**settings.PERFSUITE, **{f"MEMORY_{key}": value for key, value in keys.items()}}


def memory_settings(middleware: list[str] | None = None, **keys: Any) -> override_settings:
    return override_settings(
        PERFSUITE=perfsuite(**keys),
        MIDDLEWARE=SIGNED_IN_STACK if middleware is None else middleware,
        ROOT_URLCONF="tests.memory.urls",
    )


def counter(name: str, **labels: str) -> float:
    return metrics.registry.snapshot("all").counter_total(name, **labels)


@pytest.fixture(autouse=True)
def _fresh_metrics() -> Iterator[None]:
    from tests.memory import urls

    urls.EVENTS.clear()
    metrics.registry.reset()
    yield
    metrics.registry.reset()


@pytest.fixture
def count_reads(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Counts the psutil readings of every manager (what a check costs)."""
    from perfsuite.memory.usage import ProcessMemory

    calls = [0]
    original = ProcessMemory.read

    def read(self: ProcessMemory, uss: bool = True) -> Any:
        calls[0] += 1
        return original(self, uss)

    monkeypatch.setattr(ProcessMemory, "read", read)
    return lambda: calls[0]


__all__ = ["FIXTURES", "MIDDLEWARE", "counter", "memory_settings", "perfsuite"]
