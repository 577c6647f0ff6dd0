"""The outbox: with TASK_OUTBOX on, a task enqueued while Redis (the broker) is down is
kept in the caller's transaction and relayed once Redis is back, nothing lost, nothing
doubled; a rollback keeps nothing; several relays never send a row twice."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from celery import Celery
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from perfsuite.tasks import outbox
from perfsuite.tasks.models import OutboxTask
from perfsuite.tasks.processor import BackgroundTaskProcessor
from tests.services import RedisServer, free_port, missing, redis_binary

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker() -> Iterator[tuple[RedisServer, BackgroundTaskProcessor]]:
    binary = redis_binary()
    if binary is None:
        missing("Redis server (redis-server)", "redis-server")
    server = RedisServer(binary, free_port())
    server.start()
    app = Celery("outbox-test", broker=server.url)
    app.conf.broker_connection_retry_on_startup = False
    app.conf.broker_transport_options = {"max_retries": 1}
    from celery import _state

    previous = _state.default_app
    app.set_default()  # the relay finds tasks by name on the default app, in any thread

    @app.task(name=f"outbox_test.note_{server.port}")
    def note(text: str) -> str:
        return text

    processor = BackgroundTaskProcessor()
    processor.register("note", note)
    outbox.breaker.reset()
    try:
        yield server, processor
    finally:
        _state.set_default_app(previous)
        server.cleanup()


def queued(server: RedisServer) -> list[Any]:
    client = redis.Redis.from_url(server.url)
    try:
        return [m for m in client.lrange("celery", 0, -1)]
    finally:
        client.close()


def test_down_then_relayed_once(broker: Any) -> None:
    server, processor = broker
    with override_settings(PERFSUITE={"STORE": "local", "TASK_OUTBOX": True}):
        task_id = processor.queue_task("note", {"text": "sent at once"})
        assert outbox.waiting() == 0, "sent after the commit (marked in a batch)"
        assert OutboxTask.objects.get(task_id=task_id).sent_at is not None
        assert len(queued(server)) == 1
        server.stop()
        with transaction.atomic():
            waiting_id = processor.queue_task("note", {"text": "while down"})
        assert outbox.waiting() == 1
        row = OutboxTask.objects.get(task_id=waiting_id)
        assert row.sent_at is None and row.attempts == 1 and "unreachable" in row.last_error
        assert outbox.breaker.is_open, "later enqueues leave their rows to the relay"
        assert outbox.relay() == 0 and outbox.waiting() == 1
        try:
            with transaction.atomic():
                processor.queue_task("note", {"text": "rolled back"})
                raise RuntimeError
        except RuntimeError:
            pass
        assert OutboxTask.objects.count() == 2, "a rollback keeps nothing"
        server.start()
        out = io.StringIO()
        call_command("task_relay", stdout=out)
        assert out.getvalue().strip() == "sent 1, waiting 0"
        assert outbox.relay() == 0, "nothing doubled"
    messages = queued(server)
    assert len(messages) == 1 and waiting_id.encode() in messages[0]


def test_a_row_no_send_tried_is_left_to_its_process_for_the_grace(broker: Any) -> None:
    """Another process's relay must not send a row whose own process is sending it
    (its mark comes a moment later): only rows older than GRACE, or tried already."""
    server, _ = broker
    with override_settings(PERFSUITE={"STORE": "local", "TASK_OUTBOX": True}):
        row = OutboxTask.objects.create(  # written, its process gone before the send
            task_id="t-1", task_name=f"outbox_test.note_{server.port}", kwargs={"text": "x"}
        )
        assert outbox.relay() == 0 and queued(server) == []
        OutboxTask.objects.filter(pk=row.pk).update(
            created_at=row.created_at - timedelta(seconds=outbox.GRACE + 1)
        )  # its process died before sending: the relay takes it after the grace
        assert outbox.relay() == 1 and len(queued(server)) == 1
        assert outbox.waiting() == 0


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_relays_in_parallel_never_send_a_row_twice(broker: Any, postgres_alias: str) -> None:
    import threading

    server, processor = broker
    server.stop()  # every task waits in the outbox
    with override_settings(PERFSUITE={"STORE": "local", "TASK_OUTBOX": True}):
        ids = {processor.queue_task("note", {"text": f"n{n}"}) for n in range(150)}
        assert outbox.waiting() == 150  # this process's notes on its rows written
        server.start()
        counts: list[int] = []

        def run() -> None:
            from django.db import connections

            try:
                counts.append(outbox.relay())
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(counts) == 150 and outbox.waiting() == 0
    messages = queued(server)
    assert len(messages) == 150
    assert {task_id for task_id in ids if any(task_id.encode() in m for m in messages)} == ids
