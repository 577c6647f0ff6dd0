"""The tasks app against plain Celery on the same Redis, the run history on (its default).

    .venv/bin/python benchmarks/bench_tasks_history.py [--quick]

1. Enqueue: ``task_processor.queue_task`` (validation, the UTF-8 round trip, the bounded
   publish, the task metrics and the run history's ``queued`` record) against plain
   ``apply_async`` of the same Celery task, the suite's signal handlers disconnected;
   outside a transaction (the message leaves at once either way), then inside
   ``transaction.atomic()`` beside a view's own write, with the outbox on (a row
   written, the message sent after the commit, the row marked sent in a batch)
   against ``apply_async`` from ``on_commit``.
2. End to end: N no-op tasks (5,000) published to one worker (prefork, 2 processes)
   and run: plain Celery from Django's settings (every suite receiver disconnected in
   the publisher and the worker) against the demo's app with the suite's receivers and
   the run history writing every run to the database; then the rows are counted.

Starts its own redis-server; SQLite file database (the demo's default), migrated first.
Workers are ``benchmarks.bench_tasks``'s apps. Configurations interleaved in rotating
order, medians, ratios paired per repetition.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
QUICK = "--quick" in sys.argv
ENQUEUES = 200 if QUICK else 500
TASKS = 1000 if QUICK else 5000
REPS = 5 if QUICK else 7
END_TO_END_REPS = 3 if QUICK else 5


def main() -> int:
    from tests.services import RedisServer, redis_binary

    binary = redis_binary()
    if binary is None:
        print("redis-server is not installed: skipped")
        return 0
    server = RedisServer(binary)
    server.start()
    from benchmarks import bench_tasks

    env = bench_tasks.environment(server.url)
    os.environ.update(env)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        procs = start_workers(env)
        enqueue(server.url)
        end_to_end(server.url)
    finally:
        bench_tasks.stop_workers(procs)
        server.cleanup()
    return 0


def enqueue(url: str) -> None:
    import redis
    from django.conf import settings
    from django.db import transaction
    from django.test import override_settings

    from benchmarks import bench_tasks
    from benchmarks.common import side_by_side, table
    from perfsuite.tasks import signals
    from perfsuite.tasks.processor import BackgroundTaskProcessor

    app = bench_tasks.__getattr__("suite_app")
    task = app.tasks["bench.noop_suite"]
    queue = "bench-enqueue"  # no worker: the messages are dropped after each repetition
    client = redis.Redis.from_url(url)
    processor = BackgroundTaskProcessor()
    processor.register("noop", task)
    task.queue = queue

    def timed(send: Any) -> float:
        client.delete(queue)
        start = time.perf_counter()
        for _ in range(ENQUEUES):
            send()
        return (time.perf_counter() - start) / ENQUEUES

    def plain() -> float:
        signals.disconnect()
        try:
            return timed(lambda: task.apply_async(("x",), queue=queue))
        finally:
            signals.connect()

    def suite() -> float:
        with override_settings(PERFSUITE={**settings.PERFSUITE, "TASK_OUTBOX": False}):
            return timed(lambda: processor.queue_task("noop", {"counter": "x"}))

    from django.contrib.auth.models import Group

    group = Group.objects.get_or_create(name="bench-view-write")[0]
    writes = iter(range(10**9))

    def committed(send: Any) -> Any:
        def atomic_send() -> None:
            with transaction.atomic():  # a view's own write, then the enqueue
                Group.objects.filter(pk=group.pk).update(name=f"bench-{next(writes)}")
                send()

        return atomic_send

    def plain_committed() -> float:
        signals.disconnect()
        try:
            send = lambda: task.apply_async(("x",), queue=queue)  # noqa: E731
            return timed(committed(lambda: transaction.on_commit(send)))
        finally:
            signals.connect()

    def suite_outbox() -> float:
        with override_settings(PERFSUITE={**settings.PERFSUITE, "TASK_OUTBOX": True}):
            return timed(committed(lambda: processor.queue_task("noop", {"counter": "x"})))

    configs = {
        "apply_async": plain,
        "queue_task": suite,
        "apply_async on commit, in atomic()": plain_committed,
        "queue_task with the outbox, in atomic()": suite_outbox,
    }
    side_by_side(configs, repetitions=1)  # warm up: connections, the outbox table
    results = side_by_side(configs, repetitions=REPS)
    client.delete(queue)
    first = {k: results[k] for k in ("apply_async", "queue_task")}
    second = {k: v for k, v in results.items() if k not in first}
    print(
        table(
            f"Enqueue to Redis, {ENQUEUES} a repetition, {REPS} repetitions", first, "apply_async"
        )
    )
    print(
        table(
            "Enqueue inside a transaction, the commit included",
            second,
            "apply_async on commit, in atomic()",
        )
    )


#: configuration -> (bench_tasks app, task, queue, worker env, suite receivers, history)
END_TO_END = {
    "plain Celery": ("django_app", "bench.noop_django", "bench-h-plain", {}, False, False),
    "plain Celery + the suite's Celery defaults": (
        *("django_app", "bench.noop_django", "bench-h-reliable"),
        {"BENCH_RELIABLE": "1"},
        *(False, False),
    ),
    "the suite, run history off": (
        *("suite_app", "bench.noop_suite", "bench-h-off"),
        {"BENCH_HISTORY": "0"},
        *(True, False),
    ),
    "the suite, run history on": ("suite_app", "bench.noop_suite", "bench-h-on", {}, True, True),
}


def start_workers(env: dict[str, str]) -> dict[str, subprocess.Popen[bytes]]:
    from benchmarks import bench_tasks

    procs = {}
    for app, _task, queue, extra, receivers, _history in END_TO_END.values():
        worker_env = {**env, **extra, **({} if receivers else {"BENCH_SIGNALS": "0"})}
        procs[queue] = bench_tasks.worker(app, queue, worker_env)
    return procs


def end_to_end(url: str) -> None:
    import redis
    from django.conf import settings
    from django.test import override_settings

    from benchmarks import bench_tasks
    from benchmarks.common import side_by_side
    from perfsuite.tasks import signals
    from perfsuite.tasks.models import TaskRun

    client = redis.Redis.from_url(url)
    recorded: list[int] = []

    def config(name: str) -> Any:
        app, task_name, queue, _extra, receivers, history = END_TO_END[name]
        task = bench_tasks.__getattr__(app).tasks[task_name]

        def run() -> float:
            (signals.connect if receivers else signals.disconnect)()
            counter = f"bench:history:{queue}"
            client.set(counter, 0)
            TaskRun.objects.all().delete()
            conf = {**settings.PERFSUITE, "TASK_RUN_HISTORY": history}
            with override_settings(PERFSUITE=conf):
                start = time.perf_counter()
                for _ in range(TASKS):
                    task.apply_async((counter,), queue=queue)
                deadline = start + 600
                while int(client.get(counter) or 0) < TASKS:
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"{queue}: the worker did not finish in time")
                    time.sleep(0.005)
                seconds = time.perf_counter() - start
            if history:  # written within TASK_RUN_FLUSH_INTERVAL of a run
                recorded.append(wait_for_rows(TaskRun, TASKS))
            return seconds / TASKS

        return run

    configs = {name: config(name) for name in END_TO_END}
    side_by_side(configs, repetitions=1)  # warm up the workers
    recorded.clear()
    results = side_by_side(configs, repetitions=END_TO_END_REPS)
    base = results["plain Celery"]
    print(f"## {TASKS:,} no-op tasks end to end, 1 worker -c2, {END_TO_END_REPS} repetitions\n")
    print("| configuration | tasks/s | rate ratio to plain Celery |")
    print("|---|---|---|")
    for name, values in results.items():
        ratio = statistics.median([b / v for v, b in zip(values, base, strict=True)])
        print(f"| {name} | {1 / statistics.median(values):,.0f} | x{ratio:.2f} |")
    print(f"\nruns in the TaskRun table after each history-on repetition: {recorded} of {TASKS:,}")


def wait_for_rows(model: Any, expected: int) -> int:
    deadline = time.perf_counter() + 30
    while True:
        done = model.objects.filter(state=model.SUCCESS).count()
        if done >= expected or time.perf_counter() > deadline:
            return done
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
