"""Test-only tasks for the worker tests (a worker includes them with ``-I``)."""

from __future__ import annotations

from celery import current_task, shared_task


@shared_task(name="perfsuite_tests.noop")
def noop(i: int = 0) -> str:
    """Does nothing; says which worker group ran it (``g1@...``)."""
    return str(current_task.request.hostname or "").split("@")[0]
