"""gunicorn with 4 workers and the Redis store: the feed counts every request exactly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers import ROOT, manage, seeded_demo
from tests.services import free_port, wait_for_port

pytestmark = [pytest.mark.slow, pytest.mark.redis]
N = 400


def test_four_gunicorn_workers_report_exactly_n(tmp_path: Path, redis_url: str) -> None:
    env = seeded_demo(str(tmp_path), REDIS_URL=redis_url)
    port = free_port()
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-w",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "project.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=30)

        def get(_: int) -> int:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/products/", timeout=30) as r:
                r.read()
                return r.status

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(get, range(N)))
        assert statuses == [200] * N
    finally:
        gunicorn.send_signal(signal.SIGTERM)  # graceful: workers flush as they exit
        gunicorn.wait(timeout=60)
    result = manage("perfstats", "--json", "--window", "all", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["store"] == "redis"
    assert data["routes"]["products/"]["count"] == N
    assert data["routes"]["products/"]["errors"] == 0
