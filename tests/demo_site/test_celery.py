"""A real Celery worker process runs the demo task, on the embedded broker and on Redis."""

from __future__ import annotations

import pytest

from tests.helpers import celery_worker, demo_env, run_python

pytestmark = pytest.mark.slow

PRODUCE = (
    "import django; django.setup()\n"
    "from project.shop.tasks import add\n"
    "print(add.delay(2, 3).get(timeout=60))\n"
)


def run_demo_task(env: dict[str, str]) -> None:
    with celery_worker(env, pool="solo", concurrency=1) as proc:
        result = run_python(PRODUCE, env, timeout=90)
        if result.returncode != 0:
            proc.terminate()
            output = proc.communicate(timeout=20)[0]
            pytest.fail(f"producer failed: {result.stderr}\nworker said:\n{output}")
        assert result.stdout.strip() == "5"


def test_worker_runs_demo_task_on_embedded_broker(tmp_path) -> None:
    run_demo_task(demo_env(PERFSUITE_VAR_DIR=str(tmp_path)))


def test_worker_runs_demo_task_through_redis(tmp_path, redis_url: str) -> None:
    run_demo_task(demo_env(PERFSUITE_VAR_DIR=str(tmp_path), REDIS_URL=redis_url))
