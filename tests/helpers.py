"""Helpers for tests that run the demo site's own commands in subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


#: the demo's own variables (README): never inherited from the shell running the tests
DEMO_VARIABLES = (
    "DATABASE_URL",
    "DATABASE_POOL_MAX",
    "REDIS_URL",
    "PERFSUITE_PROMETHEUS_TOKEN",
    "PERFSUITE_FRONT",
)


def demo_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh shell running the demo site: none of the demo's
    variables (``DJANGO_*``, ``DATABASE_URL``, …) inherited, only ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in DEMO_VARIABLES and not key.startswith("DJANGO_")
    }
    env["DJANGO_SETTINGS_MODULE"] = "project.settings"
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def run_python(
    code: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def manage(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def server_command(server: str, port: int, workers: int = 2) -> list[str]:
    """The demo site under gunicorn (WSGI) or uvicorn (ASGI) on 127.0.0.1:port."""
    if server == "gunicorn":
        return [
            *(str(VENV_BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}"),
            "project.wsgi",
        ]
    return [
        *(str(VENV_BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(port)),
        "project.asgi:application",
    ]


def seeded_demo(var_dir: str, **extra: str) -> dict[str, str]:
    """The environment of a demo site migrated, seeded small and with metrics reset."""
    env = demo_env(PERFSUITE_VAR_DIR=var_dir, **extra)
    for args in (
        ("migrate", "--noinput"),
        ("seed_demo", "--products", "60", "--users", "2", "--posts", "4"),
        ("perfreset",),
    ):
        result = manage(*args, env=env)
        assert result.returncode == 0, result.stderr
    return env


@contextmanager
def celery_worker(
    env: dict[str, str], *options: str, pool: str = "prefork", concurrency: int = 2
) -> Iterator[subprocess.Popen[str]]:
    """A real ``celery -A project worker`` process of the demo (``options``: ``-I``,
    ``-n`` ...); stopped (SIGTERM, then SIGKILL) unless the test stopped it already."""
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "project", "worker", *options),
            *(f"--pool={pool}", f"--concurrency={concurrency}", "--loglevel=warning"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
