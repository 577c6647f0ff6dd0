"""Test-only tasks for the worker tests (a worker includes them with ``-I``)."""

from __future__ import annotations

import time

from celery import current_task, shared_task


@shared_task(name="perfsuite_tests.noop")
def noop(i: int = 0) -> str:
    """Does nothing; says which worker group ran it (``g1@...``)."""
    return str(current_task.request.hostname or "").split("@")[0]


@shared_task(name="perfsuite_tests.sleepy")
def sleepy(seconds: float = 0.1) -> None:
    """Keeps a worker busy, so messages wait in the queue."""
    time.sleep(seconds)
