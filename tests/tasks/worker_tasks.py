"""Test-only tasks, loaded by the worker through ``CELERY_IMPORTS`` (worker_settings):
each records its attempts and its effect in files of a folder the test reads."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from celery import shared_task

from perfsuite.tasks.reliable import ReliableTask, TransientError


def _append(folder: str, name: str, line: str) -> int:
    path = Path(folder) / name
    with path.open("a") as out:
        out.write(line + "\n")
    return len(path.read_text().splitlines())


@shared_task(base=ReliableTask, bind=True)
def effect(self: Any, folder: str, label: str) -> str:
    _append(folder, "effects", label)
    return label


@shared_task(base=ReliableTask, bind=True)
def timed_effect(self: Any, folder: str, label: str, seconds: float = 0.0) -> str:
    """Records its attempt (label, pid, start time), runs ``seconds``, then does its
    effect (label, pid, time); the test kills pool processes meanwhile."""
    _append(folder, "attempts", f"{label} {os.getpid()} {time.time()!r}")
    time.sleep(seconds)
    _append(folder, "effects", f"{label} {os.getpid()} {time.time()!r}")
    return label


@shared_task(base=ReliableTask, bind=True)
def hold_then_write(self: Any, folder: str) -> str:
    """Records its attempt, then waits for ``release`` (the test kills it meanwhile),
    then does its effect."""
    _append(folder, "attempts", str(os.getpid()))
    deadline = time.monotonic() + 60
    while not (Path(folder) / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    _append(folder, "effects", self.request.id)
    return "written"


@shared_task(base=ReliableTask, bind=True, retry_jitter=False)
def flaky(self: Any, folder: str, failures: int) -> int:
    """Fails ``failures`` times with a transient error, then succeeds (no jitter: the
    delays are exactly 1, 2, 4 ... s)."""
    attempt = _append(folder, "flaky", repr(time.time()))
    if attempt <= failures:
        raise TransientError(f"attempt {attempt} failed")
    return attempt


@shared_task(base=ReliableTask, bind=True)
def broken(self: Any, folder: str) -> None:
    _append(folder, "broken", repr(time.time()))
    raise ValueError("a permanent error")


@shared_task(base=ReliableTask, bind=True)
def poison(self: Any, folder: str) -> None:
    """Kills its own process on every delivery (as a task the OOM killer ends would)."""
    import signal

    _append(folder, "poison", str(os.getpid()))
    os.kill(os.getpid(), signal.SIGKILL)


@shared_task(base=ReliableTask, bind=True)
def fails_once(self: Any, folder: str, label: str) -> str:
    """Fails (permanently) on its first run; a run sent again by hand succeeds."""
    if _append(folder, "fails_once", label) == 1:
        raise ValueError(f"the first run of {label} fails")
    return label
