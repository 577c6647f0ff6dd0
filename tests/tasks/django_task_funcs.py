"""A ``django.tasks`` task for the backend test (Django 6.0+ only: imported by it)."""

from __future__ import annotations

from pathlib import Path

from django.tasks import task  # type: ignore[import-not-found, unused-ignore]


@task
def write_marker(path: str, text: str) -> str:
    with Path(path).open("a") as marker:  # appended: a second run would show
        marker.write(text + "\n")
    return text
