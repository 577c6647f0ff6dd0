"""Django's own ``@task``/``enqueue`` (6.0+) on the suite's Celery workers, through
``perfsuite.tasks.django_tasks.CeleryBackend`` (the demo's ``TASKS``); on Django 5.2
the backend says it cannot be used."""

from __future__ import annotations

import time
from pathlib import Path

import django
import pytest
from django.core.exceptions import ImproperlyConfigured

from perfsuite.tasks.django_tasks import CeleryBackend
from tests.helpers import demo_env, manage, run_python
from tests.tasks.workers import worker

NATIVE = django.VERSION >= (6, 0)


@pytest.mark.slow
def test_a_django_task_runs_on_a_celery_worker_once(tmp_path: Path) -> None:
    if not NATIVE:
        with pytest.raises(ImproperlyConfigured, match=r"Django 6\.0"):
            CeleryBackend("default", {})
        return
    marker = tmp_path / "marker.txt"
    env = demo_env(PERFSUITE_VAR_DIR=str(tmp_path))
    migrated = manage("migrate", "--noinput", env=env)  # the idempotency marks' table
    assert migrated.returncode == 0, migrated.stderr
    produce = (
        "import django; django.setup()\n"
        "from tests.tasks.django_task_funcs import write_marker\n"
        f"result = write_marker.enqueue({str(marker)!r}, 'ran')\n"
        "print(result.id, result.status)\n"
    )
    with worker(env) as proc:
        sent = run_python(produce, env, timeout=90)
        assert sent.returncode == 0, sent.stderr
        result_id, status = sent.stdout.split()
        assert len(result_id) == 36 and status == "READY"
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        time.sleep(1)  # a second run would append again
    assert marker.read_text() == "ran\n"
