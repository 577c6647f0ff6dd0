"""The hooks of perfsuite.memory.gunicorn, called as gunicorn calls them, with stand-ins for
its worker and master and this process's real memory. Real servers: test_gunicorn_server.py."""

from __future__ import annotations

import gc
import os
import signal
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import psutil
import pytest
from django.test import override_settings

from perfsuite.memory import gunicorn as hooks
from perfsuite.memory.gunicorn import RssReader, draw_limit, recycler_of
from tests.memory.conftest import counter, perfsuite

MB = 1024 * 1024
RECYCLES = "perfsuite_memory_recycles"


class Log:
    """gunicorn's logger, as far as the hooks use it."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, message: str, *args: Any) -> None:
        self.lines.append(("info", message % args))

    def warning(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.lines.append(("warning", message % args))

    def exception(self, message: str, *args: Any) -> None:
        self.lines.append(("exception", message % args))


class Worker:
    """A gunicorn worker, as far as the hooks use it."""

    def __init__(self) -> None:
        self.alive = True
        self.log = Log()


def rss() -> int:
    return psutil.Process().memory_info().rss


def recycling(limit_mb: float | None, jitter: float = 0.1) -> override_settings:
    return override_settings(PERFSUITE=perfsuite(RECYCLE_RSS_MB=limit_mb, RECYCLE_JITTER=jitter))


@pytest.fixture
def leak() -> Iterator[list[bytes]]:
    """Memory the test keeps alive (written, so resident), freed afterwards."""
    kept: list[bytes] = []
    yield kept
    kept.clear()


def test_the_module_loads_as_a_gunicorn_config_with_three_hooks() -> None:
    from gunicorn.config import Config

    config = Config()
    # what ``-c python:perfsuite.memory.gunicorn`` does: every module name gunicorn knows
    applied = {k: v for k, v in vars(hooks).items() if k in config.settings}
    assert set(applied) == {"pre_fork", "post_worker_init", "post_request"} == set(hooks.__all__)
    for name, value in applied.items():
        config.set(name, value)  # gunicorn's validation: callables of the right arity


def test_a_drawn_limit_lies_in_the_jitter_band() -> None:
    assert draw_limit(500, 0.1, draw=lambda: 0.0) == 500 * MB
    assert draw_limit(500, 0.1, draw=lambda: 0.999999) >= 450 * MB
    draws = [draw_limit(500, 0.1) for _ in range(2000)]
    assert all(450 * MB <= d <= 500 * MB for d in draws)
    assert len(set(draws)) > 1000  # workers do not restart together
    assert {draw_limit(500, 0.0) for _ in range(100)} == {500 * MB}


def test_each_worker_draws_its_own_limit_from_the_settings() -> None:
    with recycling(50_000, jitter=0.2):
        limits = [recycler_of(Worker()).limit for _ in range(50)]
    assert all(limit is not None and 40_000 * MB <= limit <= 50_000 * MB for limit in limits)
    assert len(set(limits)) > 1


def test_recycling_is_off_by_default() -> None:
    worker = Worker()
    hooks.post_worker_init(worker)
    hooks.post_request(worker, None, {}, None)
    assert recycler_of(worker).limit is None
    assert recycler_of(worker).watcher is None
    assert worker.alive


def test_a_request_that_leaves_the_worker_over_its_limit_retires_it(leak: list[bytes]) -> None:
    worker = Worker()
    with recycling(rss() / MB + 60, jitter=0):
        hooks.post_worker_init(worker)
    limit = recycler_of(worker).limit
    assert limit is not None
    hooks.post_request(worker, None, {}, None)
    assert worker.alive  # below its limit
    leak.append(b"\x01" * (100 * MB))
    hooks.post_request(worker, None, {}, None)
    assert worker.alive is False  # gunicorn's loop ends after this request
    [(level, line)] = worker.log.lines
    assert level == "info"
    assert f"retiring worker {os.getpid()} after this request" in line
    assert f"above its limit of {limit / MB:.1f} MB" in line
    assert counter(RECYCLES, reason="rss") == 1
    hooks.post_request(worker, None, {}, None)  # another request of a gthread worker
    assert counter(RECYCLES, reason="rss") == 1
    assert len(worker.log.lines) == 1


def test_a_gthread_worker_is_woken_to_leave_its_loop(leak: list[bytes]) -> None:
    woken = []
    worker = Worker()
    worker.method_queue = SimpleNamespace(defer=woken.append)  # type: ignore[attr-defined]
    with recycling(rss() / MB + 60, jitter=0):
        recycler_of(worker)
    leak.append(b"\x01" * (100 * MB))
    hooks.post_request(worker, None, {}, None)
    assert worker.alive is False
    assert len(woken) == 1 and callable(woken[0])


def test_a_worker_that_starts_above_its_limit_is_not_recycled() -> None:
    worker = Worker()
    with recycling(1, jitter=0):
        hooks.post_worker_init(worker)
    hooks.post_request(worker, None, {}, None)
    assert worker.alive
    assert recycler_of(worker).limit is None
    [(level, line)] = worker.log.lines
    assert level == "warning" and "above its limit of 1.0 MB" in line
    assert counter(RECYCLES, reason="rss") == 0


# -- a worker that never calls post_request (uvicorn) -----------------------------
class UvicornServer:
    """uvicorn's ``Server``: its SIGTERM handler is a method, ``should_exit`` its flag."""

    def __init__(self) -> None:
        self.should_exit = False

    def handle_exit(self, sig: int, frame: Any) -> None:
        raise AssertionError("the recycler asks through should_exit, no signal")


@pytest.fixture
def sigterm() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture
def fast_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hooks, "WATCH_INTERVAL", 0.01)


def wait_until(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def watched(worker: Worker) -> bool:
    watcher = recycler_of(worker).watcher
    return watcher is not None and watcher.is_alive()


@pytest.mark.usefixtures("sigterm", "fast_watch")
def test_a_uvicorn_worker_is_watched_and_asked_to_exit(leak: list[bytes]) -> None:
    server = UvicornServer()
    signal.signal(signal.SIGTERM, server.handle_exit)  # what uvicorn's Server installs
    worker = Worker()
    with recycling(rss() / MB + 60, jitter=0):
        hooks.post_worker_init(worker)
    assert watched(worker)
    leak.append(b"\x01" * (100 * MB))
    wait_until(lambda: server.should_exit, "the watching thread saw the worker over its limit")
    assert worker.alive is False
    [(level, line)] = worker.log.lines
    assert level == "info"
    assert f"retiring worker {os.getpid()} (graceful shutdown)" in line
    assert counter(RECYCLES, reason="rss") == 1
    wait_until(lambda: not watched(worker), "the watching thread ended")


@pytest.mark.usefixtures("sigterm", "fast_watch")
def test_other_workers_are_sent_sigterm_as_the_master_would() -> None:
    received: list[int] = []
    signal.signal(signal.SIGTERM, lambda sig, frame: received.append(sig))
    worker = Worker()
    hooks.stop_server(worker)
    wait_until(lambda: received == [signal.SIGTERM], "SIGTERM delivered")
    assert worker.alive is False


@pytest.mark.usefixtures("fast_watch")
def test_the_watch_ends_at_the_first_post_request() -> None:
    worker = Worker()
    with recycling(rss() / MB + 500):
        hooks.post_worker_init(worker)
        assert watched(worker)
        hooks.post_request(worker, None, {}, None)
    wait_until(lambda: not watched(worker), "post_request took over")
    assert worker.alive


# -- the master -----------------------------------------------------------------
@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from django.db import connections

    made: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: made.append("freeze"))
    monkeypatch.setattr(connections, "close_all", lambda: made.append("close_all"))
    return made


def master(preload: bool) -> Any:
    return SimpleNamespace(cfg=SimpleNamespace(preload_app=preload), log=Log())


def test_pre_fork_closes_connections_then_freezes_a_preloaded_master(calls: list[str]) -> None:
    hooks.pre_fork(master(preload=True), Worker())
    assert calls == ["close_all", "freeze"]


def test_pre_fork_does_not_freeze_without_preload_or_when_off(calls: list[str]) -> None:
    hooks.pre_fork(master(preload=False), Worker())
    with override_settings(PERFSUITE=perfsuite(GC_FREEZE=False)):
        hooks.pre_fork(master(preload=True), Worker())
    assert calls == ["close_all", "close_all"]


def test_the_rss_reader_reads_what_psutil_reads(leak: list[bytes]) -> None:
    read = RssReader()
    before = read()
    assert abs(before - rss()) < 8 * MB
    leak.append(b"\x01" * (50 * MB))
    assert read() - before > 40 * MB
