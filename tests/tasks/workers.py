"""Real Celery worker processes for the task tests (prefork pool, as in production)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import celery_worker, manage, run_python

WORKER_SETTINGS = "tests.tasks.worker_settings"


def worker(env: dict[str, str], concurrency: int = 2) -> Any:
    return celery_worker(env, concurrency=concurrency)


def produce(code: str, env: dict[str, str], proc: Any = None, timeout: float = 150) -> Any:
    """Run ``code`` in a producer process of the demo; its last output line is JSON."""
    result = run_python("import django; django.setup()\n" + code, env, timeout=timeout)
    if result.returncode != 0:
        said = ""
        if proc is not None:
            proc.terminate()
            said = proc.communicate(timeout=20)[0]
        pytest.fail(f"producer failed: {result.stderr}\nworker said:\n{said}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def migrated(env: dict[str, str]) -> dict[str, str]:
    result = manage("migrate", "--noinput", env=env)
    assert result.returncode == 0, result.stderr
    return env


def wait_for(check: Callable[[], Any], timeout: float = 60, what: str = "") -> Any:
    """Poll ``check`` until it returns something true (a bound, not a decision)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what or check}")
