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


class TaskRun(models.Model):
    """One task id's run, as every worker and host reported it (:mod:`.runs`): the
    Task runs page in admin. Rows are written in batches off the task's path, except
    a redelivery's count and a dead letter, which are written before the body runs."""

    QUEUED, STARTED, RETRY = "QUEUED", "STARTED", "RETRY"
    SUCCESS, FAILURE, DEAD = "SUCCESS", "FAILURE", "DEAD"
    STATES = [
        (QUEUED, "queued"),
        (STARTED, "started"),
        (RETRY, "retry scheduled"),
        (SUCCESS, "succeeded"),
        (FAILURE, "failed"),
        (DEAD, "dead-lettered"),
    ]

    task_id = models.CharField(max_length=64, unique=True)
    task_name = models.CharField(max_length=200, db_index=True)
    queue = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10, choices=STATES, default=QUEUED, db_index=True)
    #: the worker (Celery's node name) and process of the latest attempt
    worker = models.CharField(max_length=200, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_attempted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)
    #: seconds the latest attempt ran
    duration = models.FloatField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    #: deliveries after a lost attempt (its process died): the dead-letter count
    redeliveries = models.PositiveIntegerField(default=0)
    exception_class_path = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    #: the call's arguments: kept for runs that can be retried by hand, and shown only
    #: as far as ``TASK_RUN_ARGUMENTS`` allows
    args = models.JSONField(null=True, blank=True)
    kwargs = models.JSONField(null=True, blank=True)
    #: the return value, for ``django.tasks`` results only
    return_value = models.JSONField(null=True, blank=True)
    retried_at = models.DateTimeField(null=True, blank=True)
    retried_by = models.CharField(max_length=150, blank=True)
    retry_task_id = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "task run"
        ordering = ["-updated_at"]
        permissions = [("retry_taskrun", "Can retry a failed task run")]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id} ({self.state})"
