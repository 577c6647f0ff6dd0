"""Pool processes SIGKILLed at any moment (as the OOM killer does) with real prefork
workers, on the embedded broker and on Redis: the worker runs Celery's event loop and
the async pool (one pipe per pool process) on both, so a killed process blocks no other
and no replacement, its task is delivered again, and every task does its effect once.

Before the embedded broker supported the event loop, its worker ran billiard's classic
pool: idle pool processes share one queue, the one waiting for the next task holds the
queue's read lock, and killing it left every other and every replacement process
blocked on that lock for good (the worker kept reserving tasks it never ran)."""

from __future__ import annotations

import os
import random
import signal
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.helpers import demo_env
from tests.tasks.workers import WORKER_SETTINGS, migrated, produce, worker

pytestmark = pytest.mark.slow

SETUP = """
import json
import time
from tests.tasks import worker_tasks

FOLDER = {folder!r}
"""

#: publish ``timed_effect`` for each label, ``gap`` seconds apart; prints when each went
PUBLISH = """
sent = []
for label in {labels!r}:
    time.sleep({gap!r})
    sent.append(time.time())
    worker_tasks.timed_effect.delay(FOLDER, label, {seconds!r})
print(json.dumps(sent))
"""

INSPECT = """
from celery import current_app

stats = current_app.control.inspect(timeout=3).stats() or {}
print(json.dumps({name: s["pool"].get("writes") for name, s in stats.items()}))
"""


@pytest.fixture(params=["embedded", "redis"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    extra = {"PERFSUITE_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": WORKER_SETTINGS}
    if request.param == "redis":
        extra["REDIS_URL"] = request.getfixturevalue("redis_url")
    return migrated(demo_env(**extra))


class Worker:
    """A started worker: its output read as it comes (a pool process killed often
    logs a lot: a full pipe would block the worker), and its pool processes."""

    def __init__(self, proc: Any) -> None:
        self.proc = proc
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)

    def pool(self) -> list[int]:
        """The live pool processes (the worker's children)."""
        try:
            children = psutil.Process(self.proc.pid).children()
        except psutil.NoSuchProcess:
            return []
        alive = []
        for child in children:
            try:
                if child.status() != psutil.STATUS_ZOMBIE:
                    alive.append(child.pid)
            except psutil.NoSuchProcess:
                continue
        return sorted(alive)

    def until(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        """Poll ``check`` until it returns something true (a bound, not a decision);
        past ``timeout``, fail with what the worker said."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        said = "".join(self.output[-60:])
        pytest.fail(f"timed out waiting for {what} ({timeout} s)\nworker said:\n{said}")


def records(folder: Path, name: str) -> list[list[str]]:
    path = folder / name
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def effects(folder: Path) -> list[str]:
    return sorted(fields[0] for fields in records(folder, "effects"))


def quiet(env: dict[str, str]) -> bool:
    """The broker holds no message, waiting or received (every one acknowledged)."""
    if "REDIS_URL" in env:
        import redis

        client = redis.Redis.from_url(env["REDIS_URL"])
        try:
            lists = [k for k in client.scan_iter("celery*") if client.type(k) == b"list"]
            return not client.hlen("unacked") and not sum(client.llen(k) for k in lists)
        finally:
            client.close()
    broker = Path(env["PERFSUITE_VAR_DIR"]) / "celery" / "broker"
    return not list(broker.rglob("*.msg"))


def publish(folder: Path, labels: list[str], seconds: float = 0.0, gap: float = 0.0) -> str:
    return SETUP.format(folder=str(folder)) + PUBLISH.format(
        labels=labels, seconds=seconds, gap=gap
    )


def test_the_worker_runs_the_event_loop_and_the_async_pool(
    env: dict[str, str], tmp_path: Path
) -> None:
    """One pipe per pool process (``AsynPool``: it reports its writes), an idle worker
    still starts a task at once (the embedded broker polls its folder every
    ``polling_interval``, 0.2 s in the demo), and nothing stays claimed."""
    with worker(env, concurrency=2) as proc:
        running = Worker(proc)
        inspect = SETUP.format(folder=str(tmp_path)) + INSPECT
        writes = running.until(lambda: produce(inspect, env), 60, "the worker's stats")
        assert all(isinstance(w, dict) for w in writes.values()), f"AsynPool: {writes}"
        labels = ["idle-1", "idle-2", "idle-3"]
        sent = produce(publish(tmp_path, labels, gap=0.5), env)
        running.until(lambda: effects(tmp_path) == labels, 30, "the three tasks")
        # the remote control's messages too (consumed without acknowledgements: the
        # embedded broker keeps no claim of them, a restarted worker replays none)
        running.until(lambda: quiet(env), 20, "no message left, waiting or claimed")
    started = {fields[0]: float(fields[2]) for fields in records(tmp_path, "attempts")}
    latencies = [started[label] - at for label, at in zip(labels, sent, strict=True)]
    print("publish to start, idle worker:", [f"{s:.3f}" for s in latencies])
    assert statistics.median(latencies) < 1.0 and max(latencies) < 2.0, latencies


def test_idle_pool_processes_killed_then_every_task_runs_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    with worker(env, concurrency=2) as proc:
        running = Worker(proc)
        produce(publish(tmp_path, ["warm-up"]), env)
        running.until(lambda: effects(tmp_path) == ["warm-up"], 60, "the first task")
        first = running.until(lambda: len(running.pool()) == 2 and running.pool(), 20, "pool")
        # each idle pool process, one after the other (one of them is the one waiting
        # for the next task); a replacement takes its place before the next kill
        gone: set[int] = set()
        for pid in first:
            os.kill(pid, signal.SIGKILL)
            gone.add(pid)
            running.until(
                lambda: len(now := running.pool()) == 2 and not gone & set(now),
                20,
                f"a replacement of pool process {pid}",
            )
        labels = [f"after-{n}" for n in range(5)]
        began = time.monotonic()
        produce(publish(tmp_path, labels), env)
        expected = sorted(["warm-up", *labels])
        running.until(lambda: effects(tmp_path) == expected, 30, "the five tasks")
        running.until(lambda: quiet(env), 20, "every message acknowledged")
        print(f"five tasks after the kills: done in {time.monotonic() - began:.1f} s")
    assert effects(tmp_path) == expected, "each task's effect once"
    assert len(records(tmp_path, "attempts")) == 6, "no task ran twice"
    assert not gone & {int(fields[1]) for fields in records(tmp_path, "attempts")[1:]}


#: a storm: tasks of ``TASK_SECONDS`` each, a pool process killed every ``EVERY`` s on
#: average (at random intervals: a fixed one can fall in step with the tasks), for a
#: little longer than the tasks need, so the last kills find idle processes
TASKS, TASK_SECONDS, STORM_SECONDS, EVERY = 40, 0.25, 7.0, 0.3
#: a task killed more often than ``TASK_MAX_REDELIVERIES`` (3) is dead-lettered, by
#: design: the storm kills none more than twice (a kill before the body's first line
#: may count once more, unseen)
KILLS_PER_TASK = 2


def killable(folder: Path, pid: int, now: float) -> tuple[str, str | None] | None:
    """(``busy``, its task) or (``idle``, None) when killing ``pid`` now cannot land
    between a task's effect and ``ReliableTask``'s done mark (the one moment a kill
    makes an effect happen twice, whatever the broker: the redelivery finds no done
    mark), else None."""
    mine = [fields for fields in records(folder, "attempts") if int(fields[1]) == pid]
    if not mine:
        return "idle", None  # not in a task's body yet
    label, _, start = max(mine, key=lambda fields: float(fields[2]))
    if now - float(start) < TASK_SECONDS - 0.1:
        return "busy", label  # in the task's body, before its effect
    done = [
        float(fields[2])
        for fields in records(folder, "effects")
        if fields[0] == label and int(fields[1]) == pid
    ]
    return ("idle", None) if done and now - done[0] > 1.0 else None


def test_a_storm_of_kills_then_every_task_runs_once(env: dict[str, str], tmp_path: Path) -> None:
    labels = [f"t{n:02d}" for n in range(TASKS)]
    produce(publish(tmp_path, labels, seconds=TASK_SECONDS), env)  # queued first
    kills: list[tuple[int, str, str | None]] = []
    with worker(env, concurrency=2) as proc:
        running = Worker(proc)
        running.until(lambda: records(tmp_path, "attempts"), 60, "the first task")
        began = time.monotonic()
        while time.monotonic() - began < STORM_SECONDS:
            now = time.time()
            targets = [
                (pid, *found)
                for pid in running.pool()
                if (found := killable(tmp_path, pid, now))
                and sum(label == found[1] for _, _, label in kills if label) < KILLS_PER_TASK
            ]
            if targets:
                target = random.choice(targets)
                try:
                    os.kill(target[0], signal.SIGKILL)
                    kills.append(target)
                except ProcessLookupError:
                    pass
            time.sleep(random.uniform(EVERY / 2, EVERY * 1.5))
        stormed = time.monotonic()
        running.until(lambda: effects(tmp_path) == labels, 60, f"the {TASKS} tasks")
        running.until(lambda: quiet(env), 30, "every message acknowledged")
        settled = time.monotonic() - stormed
    attempts = records(tmp_path, "attempts")
    busy = [label for _, kind, label in kills if kind == "busy"]
    print(
        f"{len(kills)} kills in {STORM_SECONDS} s ({len(busy)} busy, "
        f"{len(kills) - len(busy)} idle), {len(attempts) - TASKS} attempts again, "
        f"all done {settled:.1f} s after the storm"
    )
    assert effects(tmp_path) == labels, "each task's effect exactly once"
    assert len(kills) >= STORM_SECONDS / EVERY / 3, kills
    assert busy, "some killed mid-task"
    for label in busy:  # each killed attempt was delivered again
        assert sum(fields[0] == label for fields in attempts) > busy.count(label), label
