"""Real servers for the tests, started from local binaries on 127.0.0.1.

A test that needs a missing binary is skipped with a reason naming the Debian
package to install, unless ``PERFSUITE_REQUIRE_SERVICES=1`` (CI), when it fails.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REQUIRE_SERVICES = os.environ.get("PERFSUITE_REQUIRE_SERVICES", "") == "1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def missing(what: str, package: str) -> None:
    message = (
        f"{what} not found: install the Debian package '{package}' (apt-get install {package})"
    )
    if REQUIRE_SERVICES:
        pytest.fail(message + " [PERFSUITE_REQUIRE_SERVICES=1]", pytrace=False)
    pytest.skip(message)


def postgres_bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def redis_binary() -> str | None:
    return shutil.which("redis-server")


class PostgresServer:
    """A throw-away PostgreSQL cluster on 127.0.0.1 (run as user postgres when we are root)."""

    def __init__(self, bin_dir: Path, port: int, *, durable: bool = False) -> None:
        self.bin_dir = bin_dir
        self.port = port
        self.durable = durable  # fsync and synchronous commits, as in production
        self.user = "postgres"
        self.base = Path(tempfile.mkdtemp(prefix="perfsuite-pg-"))
        self.data = self.base / "data"
        self.proc: subprocess.Popen[bytes] | None = None
        self._as_root = os.geteuid() == 0

    def _cmd(self, *args: str) -> list[str]:
        if self._as_root:
            return ["runuser", "-u", "postgres", "--", *args]
        return list(args)

    def start(self) -> None:
        if self._as_root:
            shutil.chown(self.base, "postgres")
        subprocess.run(
            self._cmd(
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                self.user,
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.proc = subprocess.Popen(
            self._cmd(
                str(self.bin_dir / "postgres"),
                "-D",
                str(self.data),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-k",
                str(self.base),
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
                *(() if self.durable else ("-F", "-c", "synchronous_commit=off")),
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, timeout=30)
        # The port answers before the server accepts logins: wait for pg_isready.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ok = subprocess.run(
                [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if ok.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError("PostgreSQL did not become ready")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        shutil.rmtree(self.base, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/perfsuite"


class RedisServer:
    """A redis-server on 127.0.0.1 that a test can stop and start again on the same port."""

    def __init__(self, binary: str, port: int | None = None, *, persist: bool = False) -> None:
        self.binary = binary
        self.persist = persist
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="perfsuite-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "yes" if self.persist else "no",
                "--appendfsync",
                "always",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open and nothing answers."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def cleanup(self) -> None:
        if self.proc is not None:
            self.resume()
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"
