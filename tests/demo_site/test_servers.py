"""gunicorn (WSGI) and uvicorn (ASGI) both serve the demo site."""

from __future__ import annotations

import subprocess
import urllib.request

import pytest

from tests.helpers import ROOT, demo_env, manage, server_command
from tests.services import free_port, wait_for_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def migrated_env(tmp_path_factory) -> dict[str, str]:
    var = tmp_path_factory.mktemp("var")
    env = demo_env(PERFSUITE_VAR_DIR=str(var))
    result = manage("migrate", "--noinput", env=env)
    assert result.returncode == 0, result.stderr
    result = manage("seed_demo", "--products", "60", "--users", "3", "--posts", "10", env=env)
    assert result.returncode == 0, result.stderr
    return env


def serve(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, timeout=30)
    except TimeoutError:
        proc.kill()
        raise
    return proc


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=20) as response:
        return response.status, response.read().decode()


@pytest.mark.parametrize("server", ["gunicorn", "uvicorn"])
def test_server_serves_demo_pages(server: str, migrated_env: dict[str, str]) -> None:
    port = free_port()
    proc = serve(server_command(server, port), migrated_env, port)
    try:
        status, body = fetch(f"http://127.0.0.1:{port}/")
        assert status == 200
        assert "/products/" in body
        status, body = fetch(f"http://127.0.0.1:{port}/products/")
        assert status == 200
        assert "Product 000001" in body
        status, body = fetch(f"http://127.0.0.1:{port}/admin/login/")
        assert status == 200
        assert "csrfmiddlewaretoken" in body
    finally:
        proc.terminate()
        proc.wait(timeout=20)
