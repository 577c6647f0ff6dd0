"""Which process holds something, and whether it has died.

A claim (a broker message being worked on, a running task's idempotency mark) names
its owner as ``host~pid~start``: the process's start time tells a dead owner from a
new process that reuses its pid. Only an owner on this host can be judged; one on
another host is never called dead (its claim expires by time instead).
"""

from __future__ import annotations

import os
import socket

import psutil

_mine: tuple[int, str] | None = None


def _start_of(pid: int) -> str | None:
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return f"{process.create_time():.2f}"
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:  # running, as another user: alive
        return "?"


def me() -> str:
    """This process as an owner (recomputed after a fork)."""
    global _mine
    pid = os.getpid()
    if _mine is None or _mine[0] != pid:
        _mine = (pid, f"{socket.gethostname()}~{pid}~{_start_of(pid)}")
    return _mine[1]


def is_dead(owner: str) -> bool:
    """True when ``owner`` ran on this host and that process no longer runs."""
    parts = owner.rsplit("~", 2)
    if len(parts) != 3:
        return False
    host, pid_text, start = parts
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    now = _start_of(int(pid_text))
    if now is None:
        return True
    return now not in ("?", start)


__all__ = ["is_dead", "me"]
