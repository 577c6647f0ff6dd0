"""The outbox (``TASK_OUTBOX``): what it adds to an enqueue inside a transaction, and how
fast the relay sends what waited while the broker was down.

    .venv/bin/python benchmarks/bench_tasks_outbox.py [--quick]

Starts its own redis-server (the broker). SQLite file database (the demo's default).

1. ``queue_task`` inside ``transaction.atomic()`` (with one row written beside it, as a
   view would), outbox off vs on: per enqueue, the commit included (the message is
   sent after it either way; with the outbox the row is written and marked sent too).
2. The relay: N tasks written while the broker was stopped, then sent by
   ``outbox.relay()`` once it is back (tasks per second).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.services import RedisServer, free_port, redis_binary

QUICK = "--quick" in sys.argv
ENQUEUES = 100 if QUICK else 300
RELAYED = 500 if QUICK else 2000


def main() -> None:
    binary = redis_binary()
    if binary is None:
        sys.exit("needs redis-server (apt-get install redis-server)")
    server = RedisServer(binary, free_port())
    server.start()
    var = tempfile.mkdtemp(prefix="perfsuite-bench-outbox-")
    os.environ.update(PERFSUITE_VAR_DIR=var, DJANGO_SETTINGS_MODULE="project.settings")
    os.environ.pop("REDIS_URL", None)
    try:
        run(server)
    finally:
        server.cleanup()


def run(server: RedisServer) -> None:
    import django
    from common import side_by_side, table

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction
    from django.test import override_settings

    from perfsuite.tasks import outbox
    from perfsuite.tasks.models import OutboxTask
    from perfsuite.tasks.processor import BackgroundTaskProcessor
    from project.celery import app

    call_command("migrate", verbosity=0, interactive=False)
    app.conf.broker_url = server.url
    app.conf.broker_transport_options = {"max_retries": 1}

    @app.task(name="bench.outbox_noop")
    def noop(n: int) -> None: ...

    processor = BackgroundTaskProcessor()
    processor.register("noop", noop)
    users = get_user_model().objects

    def enqueue(use_outbox: bool) -> float:
        conf = {"STORE": "local", "TASK_OUTBOX": use_outbox}
        with override_settings(PERFSUITE=conf):
            start = time.perf_counter()
            for n in range(ENQUEUES):
                with transaction.atomic():
                    users.filter(pk=-1).update(first_name="x")  # the view's own write
                    processor.queue_task("noop", {"n": n})
            return (time.perf_counter() - start) / ENQUEUES

    enqueue(False)  # connect, warm up
    enqueue(True)
    results = side_by_side(
        {"outbox off": lambda: enqueue(False), "outbox on": lambda: enqueue(True)},
        3 if QUICK else 7,
    )
    print(table("queue_task inside a transaction, the commit included", results, "outbox off"))
    added = [on - off for on, off in zip(results["outbox on"], results["outbox off"], strict=True)]
    print(f"added per enqueue by the outbox: {sorted(added)[len(added) // 2] * 1e3:.3f} ms\n")

    OutboxTask.objects.all().delete()
    server.stop()
    outbox.breaker.reset()
    with override_settings(PERFSUITE={"STORE": "local", "TASK_OUTBOX": True}):
        for n in range(RELAYED):
            processor.queue_task("noop", {"n": n})  # the breaker opens at the first failure
        assert outbox.waiting() == RELAYED, outbox.waiting()
        server.start()
        start = time.perf_counter()
        sent = outbox.relay()
        seconds = time.perf_counter() - start
    assert sent == RELAYED and outbox.waiting() == 0
    print("## The relay, once the broker is back\n")
    print(f"{RELAYED:,} waiting tasks sent in {seconds:.2f} s: {RELAYED / seconds:,.0f} tasks/s")


if __name__ == "__main__":
    main()
