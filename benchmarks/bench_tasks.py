"""Celery through Redis with one worker (prefork, 2 processes): publish rate and end-to-end
throughput of no-op tasks, plain Celery vs the suite (``configure_celery``'s defaults and
the task metrics' signal handlers, Redis metrics store), and the suite with idempotency
keys (``ReliableTask``: one mark in the shared cache per task).

    .venv/bin/python benchmarks/bench_tasks.py [--quick] [--breakdown]

Starts its own redis-server and two workers (this file is their Celery app module:
``plain_app``, a Celery app with nothing of the suite; ``suite_app``, the demo's app
after ``django.setup()``). Each task increments a Redis counter (the same in every
configuration); end to end runs from the first publish to the last increment.
Configurations are interleaved in rotating order, medians of the repetitions.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PLAIN_Q = "bench-plain"
DJANGO_Q = "bench-django"
HANDLERS_Q = "bench-handlers"
SUITE_Q = "bench-suite"
#: configuration -> (app, task, queue, signal handlers in the publisher, idempotency keys)
CONFIGS = {
    "celery, standalone app": ("plain_app", "bench.noop", PLAIN_Q, False, False),
    "celery from Django settings": ("django_app", "bench.noop_django", DJANGO_Q, False, False),
    "+ the suite's signal handlers": ("django_app", "bench.noop_django", HANDLERS_Q, True, False),
    "+ handlers and configure_celery": ("suite_app", "bench.noop_suite", SUITE_Q, True, False),
    "+ idempotency keys (ReliableTask)": ("suite_app", "bench.noop_reliable", SUITE_Q, True, True),
}
BASELINE = "celery from Django settings"
#: ``--breakdown``: the suite with one of configure_celery's defaults undone (env BENCH_CONF)
BREAKDOWN = {
    "  suite, prefetch multiplier 4": ("worker_prefetch_multiplier=4", "bench-prefetch4"),
    "  suite, early acks": ("task_acks_late=0,task_reject_on_worker_lost=0", "bench-early"),
    "  suite, no time limits": ("task_time_limit=None,task_soft_time_limit=None", "bench-nolimit"),
}
_client: Any = None
_client_pid = 0


def _done(counter: str) -> None:
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():
        import redis

        _client = redis.Redis.from_url(os.environ["BENCH_REDIS_URL"])
        _client_pid = os.getpid()
    _client.incr(counter)


def _plain_app() -> Any:
    from celery import Celery

    app = Celery("bench_plain", broker=os.environ["BENCH_REDIS_URL"])
    app.conf.task_default_queue = PLAIN_Q
    app.conf.broker_connection_retry_on_startup = True
    app.conf.worker_hijack_root_logger = False

    @app.task(name="bench.noop", ignore_result=True, shared=False)
    def noop(counter: str) -> None:
        _done(counter)

    return app


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()  # connects the suite's signal handlers (TasksConfig.ready)
    if os.environ.get("BENCH_SIGNALS") == "0":
        from perfsuite.tasks import signals

        signals.disconnect()


def _django_app() -> Any:
    """Celery configured from Django's settings as the demo is, without the suite's
    defaults (no ``configure_celery``): what a project has before the suite."""
    _django()
    from celery import Celery

    app = Celery("bench_django")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    if os.environ.get("BENCH_RELIABLE") == "1":  # the suite's Celery defaults, nothing else
        from perfsuite.tasks.defaults import configure_celery

        configure_celery(app)

    @app.task(name="bench.noop_django", ignore_result=True, shared=False)
    def noop_django(counter: str) -> None:
        _done(counter)

    return app


def _suite_app() -> Any:
    """The demo's app: Django settings and ``configure_celery``'s defaults."""
    _django()
    if os.environ.get("BENCH_HISTORY") == "0":
        from django.conf import settings

        from perfsuite.core.conf import perf_settings

        settings.PERFSUITE["TASK_RUN_HISTORY"] = False
        perf_settings.reload()
    from perfsuite.tasks.reliable import ReliableTask
    from project.celery import app

    for item in filter(None, os.environ.get("BENCH_CONF", "").split(",")):
        key, _, value = item.partition("=")  # --breakdown: one default undone
        app.conf[key] = None if value == "None" else int(value) if value.isdigit() else value

    @app.task(name="bench.noop_suite", ignore_result=True, shared=False)
    def noop_suite(counter: str) -> None:
        _done(counter)

    @app.task(name="bench.noop_reliable", base=ReliableTask, ignore_result=True, shared=False)
    def noop_reliable(counter: str) -> None:
        _done(counter)

    return app


_apps: dict[str, Any] = {}
_BUILD = {"plain_app": _plain_app, "django_app": _django_app, "suite_app": _suite_app}


def __getattr__(name: str) -> Any:  # the workers' ``-A benchmarks.bench_tasks:plain_app``
    if name in _BUILD:
        if name not in _apps:
            _apps[name] = _BUILD[name]()
        return _apps[name]
    raise AttributeError(name)


def worker(app: str, queue: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", f"benchmarks.bench_tasks:{app}", "worker"),
            *("-Q", queue, "-n", f"{queue}@%h", "--pool=prefork", "--concurrency=2"),
            *("--loglevel=warning", "--without-gossip", "--without-mingle"),
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stopped and resumed as one
    )


def environment(redis_url: str) -> dict[str, str]:
    drop = ("DATABASE_URL", "DJANGO_DEBUG", "BENCH_CONF", "BENCH_SIGNALS", "BENCH_HISTORY")
    drop += ("BENCH_RELIABLE",)
    return {
        **{k: v for k, v in os.environ.items() if k not in drop},
        "BENCH_REDIS_URL": redis_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PERFSUITE_VAR_DIR": tempfile.mkdtemp(prefix="perfsuite-bench-tasks-"),
        "PYTHONPATH": str(ROOT),
    }


def stop_workers(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    """Warm shutdown of every worker (SIGTERM), a kill after 30 s."""
    for proc in procs.values():
        proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def start_workers(env: dict[str, str], configs: dict[str, tuple[Any, ...]]) -> dict[str, Any]:
    """One worker per queue (the two suite configurations share one)."""
    quiet = {**env, "BENCH_SIGNALS": "0"}
    procs = {
        PLAIN_Q: worker("plain_app", PLAIN_Q, env),
        DJANGO_Q: worker("django_app", DJANGO_Q, quiet),
        HANDLERS_Q: worker("django_app", HANDLERS_Q, env),
        SUITE_Q: worker("suite_app", SUITE_Q, env),
    }
    if "--breakdown" in sys.argv:
        for name, (conf, queue) in BREAKDOWN.items():
            configs[name] = ("suite_app", "bench.noop_suite", queue, True, False)
            procs[queue] = worker("suite_app", queue, {**env, "BENCH_CONF": conf})
    return procs


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from benchmarks.common import side_by_side
    from tests.services import RedisServer, redis_binary

    quick = "--quick" in sys.argv
    n = 200 if quick else 400
    reps = 5 if quick else 7
    binary = redis_binary()
    if binary is None:
        print("redis-server is not installed: skipped")
        return 0
    server = RedisServer(binary)
    server.start()
    env = environment(server.url)
    os.environ.update(env)
    configs: dict[str, tuple[Any, ...]] = dict(CONFIGS)
    procs = start_workers(env, configs)
    figures: dict[str, dict[str, list[float]]] = {"publish": {}, "drain": {}}
    try:
        import redis

        from perfsuite.tasks import signals
        from perfsuite.tasks.reliable import KEY_HEADER

        client = redis.Redis.from_url(server.url)
        runs = 0

        def config(name: str) -> Any:
            app_name, task_name, queue, handlers, keyed = configs[name]
            task = __getattr__(app_name).tasks[task_name]
            group = os.getpgid(procs[queue].pid)

            def batch(counter: str) -> float:
                nonlocal runs
                runs += 1
                client.set(counter, 0)
                start = time.perf_counter()
                for i in range(n):
                    headers = {KEY_HEADER: f"{runs}-{i}"} if keyed else None
                    task.apply_async((counter,), queue=queue, headers=headers)
                return start

            def wait(counter: str) -> float:
                deadline = time.perf_counter() + 120
                while int(client.get(counter) or 0) < n:
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"{name}: the worker did not finish in time")
                    time.sleep(0.002)
                return time.perf_counter()

            def run() -> float:
                (signals.connect if handlers else signals.disconnect)()
                counter = f"bench:done:{queue}"
                # end to end: publishing while the worker runs
                start = batch(counter)
                published = time.perf_counter()
                end = wait(counter)
                figures["publish"].setdefault(name, []).append((published - start) / n)
                # the worker alone: a queue of n filled while it was stopped, then drained
                os.killpg(group, signal.SIGSTOP)
                try:
                    batch(counter)
                finally:
                    os.killpg(group, signal.SIGCONT)
                resumed = time.perf_counter()
                figures["drain"].setdefault(name, []).append((wait(counter) - resumed) / n)
                return (end - start) / n

            return run

        names = list(configs)
        side_by_side({name: config(name) for name in names}, repetitions=1)  # warm up
        figures = {"publish": {}, "drain": {}}
        figures["end to end"] = side_by_side(
            {name: config(name) for name in names}, repetitions=reps
        )
    finally:
        stop_workers(procs)
        server.cleanup()
    print(f"## Celery no-op tasks through Redis, 1 worker -c2, {n} tasks a run, {reps} runs\n")
    print(
        "| configuration | publish ms/task | ratio | end to end tasks/s | ratio "
        "| worker alone tasks/s | ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in names:
        cells = []
        for kind, rate in (("publish", False), ("end to end", True), ("drain", True)):
            values, base = figures[kind][name], figures[kind][BASELINE]
            pairs = zip(values, base, strict=True)
            ratio = statistics.median([b / v if rate else v / b for v, b in pairs])
            median = statistics.median(values)
            shown = f"{1 / median:,.0f}" if rate else f"{median * 1e3:.3f}"
            cells.append(f"{shown} | x{ratio:.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
