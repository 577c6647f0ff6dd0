"""Celery tasks of the demo site."""

from __future__ import annotations

from celery import shared_task


@shared_task
def add(x: int, y: int) -> int:
    return x + y


class DemoFailure(Exception):
    """The demo's failure to retry by hand from Admin -> Background tasks -> Task runs."""


@shared_task
def fails_once(token: str) -> str:
    """Fail on the first run of ``token``, succeed on the next: run it from the demo
    task page, then retry the failed run from the Task runs page."""
    from pathlib import Path

    from django.conf import settings

    marker = Path(settings.VAR_DIR) / "demo-fails-once" / f"{token}.seen"
    if not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        raise DemoFailure(f"the first run of {token} fails on purpose: retry it by hand")
    return f"{token}: succeeded on a retry"
