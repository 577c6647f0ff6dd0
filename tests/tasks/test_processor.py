"""The guide's queue_task on Celery: validation at enqueue, JSON round trips, enqueue
after commit (nothing on rollback), a clear error for an unreachable broker; the
reliable defaults; idempotency marks in a shared cache and in the database."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from celery import Celery
from django.db import transaction
from django.test import override_settings

from perfsuite.tasks import idempotency, owners
from perfsuite.tasks.defaults import configure_celery
from perfsuite.tasks.processor import BackgroundTaskProcessor, BrokerUnavailable, publish


class FakeTask:
    """Records what would be published (the worker tests send real messages)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def apply_async(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def check_email(data: Any) -> Any:
    if "@" not in str(data.get("to", "")):
        raise ValueError("to must be an e-mail address")
    return {"to": data["to"], "subject": str(data.get("subject", ""))}


@pytest.fixture
def processor() -> Iterator[tuple[BackgroundTaskProcessor, FakeTask]]:
    task = FakeTask()
    found = BackgroundTaskProcessor(guide_types=False)
    found.register("send_email", task, check_email)
    yield found, task


def test_bad_task_types_and_data_fail_at_enqueue(processor: Any) -> None:
    proc, task = processor
    with pytest.raises(ValueError, match="unknown task type 'nope' \\(known: send_email\\)"):
        proc.queue_task("nope", {})
    with pytest.raises(ValueError, match="e-mail"):
        proc.queue_task("send_email", {"to": "nobody"})
    with pytest.raises(ValueError, match="must be a dict"):
        proc.queue_task("send_email", ["a@b.c"])  # type: ignore[arg-type]
    proc.register("raw", task)
    for bad in ({"when": object()}, {"pair": (1, 2)}, {1: "int key"}):
        with pytest.raises(ValueError, match="JSON"):
            proc.queue_task("raw", bad)
    assert task.sent == []


@pytest.mark.django_db(transaction=True)
def test_enqueue_waits_for_the_commit_and_a_rollback_sends_nothing(processor: Any) -> None:
    proc, task = processor
    with transaction.atomic():
        task_id = proc.queue_task("send_email", {"to": "a@example.com"})
        assert len(task_id) == 36 and task.sent == [], "not before the commit"
    assert [m["task_id"] for m in task.sent] == [task_id]
    assert task.sent[0]["kwargs"] == {"to": "a@example.com", "subject": ""}
    try:
        with transaction.atomic():
            proc.queue_task("send_email", {"to": "b@example.com"})
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert len(task.sent) == 1, "a rollback sends nothing"
    keyed = proc.queue_task("send_email", {"to": "c@example.com"}, idempotency_key="k1")
    assert task.sent[-1]["headers"] == {"perfsuite_idempotency_key": "k1"}
    assert async_to_sync(proc.aqueue_task)("send_email", {"to": "d@example.com"}) != keyed


def test_an_unreachable_broker_is_one_clear_error() -> None:
    app = Celery("unreachable", broker="redis://127.0.0.1:9/0")

    @app.task
    def noop() -> None: ...

    with pytest.raises(BrokerUnavailable, match="unreachable"):
        publish(noop, {}, "id-1", {}, None)


def test_configure_celery_keeps_the_projects_choices() -> None:
    class Settings:
        task_time_limit = 42
        broker_url = "redis://127.0.0.1:6379/0"

    app = Celery("configured")
    app.config_from_object(Settings)
    changed = configure_celery(app)
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1 and app.conf.task_time_limit == 42
    assert "task_time_limit" not in changed
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit


@pytest.mark.parametrize("where", ["database", "cache"])
@pytest.mark.django_db(transaction=True)
def test_an_effect_runs_once_per_key(where: str, redis_url: str) -> None:
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url},
    }
    conf = {"STORE": "local", "TASK_IDEMPOTENCY_ALIAS": "shared" if where == "cache" else None}
    runs: list[str] = []
    with override_settings(CACHES=caches, PERFSUITE=conf):
        with idempotency.once("k"):
            runs.append("first")
        with pytest.raises(idempotency.Done), idempotency.once("k"):
            runs.append("again")
        with pytest.raises(ZeroDivisionError), idempotency.once("failing"):
            1 / 0  # noqa: B018
        with idempotency.once("failing"):  # a failed effect may run again
            runs.append("retried")
        with (
            idempotency.once("long"),
            pytest.raises(idempotency.Running),
            idempotency.once("long"),
        ):
            runs.append("concurrent")
    assert runs == ["first", "retried"]


@pytest.mark.parametrize("where", ["database", "cache"])
@pytest.mark.django_db(transaction=True)
def test_a_mark_left_by_a_dead_process_is_taken_over_once(where: str, redis_url: str) -> None:
    from django.core.cache import caches as django_caches
    from django.utils import timezone

    from perfsuite.tasks.models import IdempotencyKey

    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url},
    }
    conf = {"STORE": "local", "TASK_IDEMPOTENCY_ALIAS": "shared" if where == "cache" else None}
    gone = subprocess.Popen(["true"])
    gone.wait()
    host, _pid, start = owners.me().rsplit("~", 2)
    dead = f"{host}~{gone.pid}~{start}"
    key = f"killed-{where}"
    runs: list[str] = []
    with override_settings(CACHES=caches, PERFSUITE=conf):
        # an attempt whose process was killed mid-effect left its "started" mark
        if where == "cache":
            django_caches["shared"].set(idempotency.PREFIX + key, idempotency.STARTED + dead, 60)
        else:
            expires = timezone.now() + timedelta(seconds=60)
            IdempotencyKey.objects.create(key=key, state="started", owner=dead, expires_at=expires)
        with idempotency.once(key):  # the redelivery runs at once, not after 60 s
            runs.append("taken over")
            # its mark is now this live process's: another delivery does not run
            with pytest.raises(idempotency.Running), idempotency.once(key):
                runs.append("twice")
        with pytest.raises(idempotency.Done), idempotency.once(key):
            runs.append("after done")
        if where == "cache":
            django_caches["shared"].delete(idempotency.PREFIX + key)
    assert runs == ["taken over"]
