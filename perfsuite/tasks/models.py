"""Idempotency keys in the database, for projects whose cache is not shared between
processes (local memory): the unique key is the lock."""

from __future__ import annotations

from django.db import models


class IdempotencyKey(models.Model):
    key = models.CharField(max_length=200, unique=True)
    #: "started" while an attempt runs, "done" once its effect happened
    state = models.CharField(max_length=10)
    expires_at = models.DateTimeField(db_index=True)
    #: the process running a "started" attempt (``host~pid~start``): a later delivery
    #: takes over at once when that process died on this host
    owner = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        verbose_name = "task idempotency key"

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class OutboxTask(models.Model):
    """A task written in the caller's transaction (``TASK_OUTBOX``), sent after commit or,
    while the broker is unreachable, by the relay (``manage.py task_relay``)."""

    task_id = models.CharField(max_length=64, unique=True)
    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    headers = models.JSONField(default=dict)
    countdown = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "outbox task"

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id} ({'sent' if self.sent_at else 'waiting'})"
