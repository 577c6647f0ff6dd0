"""The demo site behind gunicorn or uvicorn, DEBUG off, with a collected STATIC_ROOT."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ROOT, demo_env, manage
from tests.services import free_port, missing, wait_for_port

BIN = Path(sys.executable).parent


@dataclass
class Demo:
    env: dict[str, str]
    static_root: Path
    paths: dict[str, str]


def prepare_demo(base: Path, *, migrate: bool = False) -> Demo:
    """collectstatic (our storage, as in project/settings.py) into ``base``."""
    static_root = base / "static"
    env = demo_env(
        PERFSUITE_VAR_DIR=str(base / "var"),
        PERFSUITE_STATIC_ROOT=str(static_root),
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="static-opt-tests-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    result = manage("collectstatic", "--noinput", "--verbosity", "0", env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    if migrate:
        for args in (("migrate", "--noinput"), ("seed_demo", "--products", "5", "--users", "1")):
            result = manage(*args, "--verbosity", "0", env=env)
            assert result.returncode == 0, result.stderr
    paths = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    return Demo(env, static_root, paths)


def server_command(server: str, port: int, extra: tuple[str, ...] = ()) -> list[str]:
    binary = BIN / server
    if not binary.exists():
        missing(f"{server} (pip install -r requirements.txt)", server)
    if server == "gunicorn":
        return [str(binary), "-w", "2", "-b", f"127.0.0.1:{port}", *extra, "project.wsgi"]
    return [
        str(binary),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        *extra,
        "project.asgi:application",
    ]


@contextmanager
def running(server: str, env: dict[str, str], *extra: str) -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        server_command(server, port, extra),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=30)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def request(
    port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """One request with the path sent byte for byte (no client-side normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def source(name: str) -> bytes:
    """A demo static file's source bytes (shop app or Django admin)."""
    if name.startswith("shop/"):
        return (ROOT / "project" / "shop" / "static" / name).read_bytes()
    import django

    return (Path(django.__file__).parent / "contrib" / "admin" / "static" / name).read_bytes()


__all__ = ["Demo", "prepare_demo", "request", "running", "source"]
