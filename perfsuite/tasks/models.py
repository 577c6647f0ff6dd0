"""Idempotency keys in the database, for projects whose cache is not shared between
processes (local memory): the unique key is the lock."""

from __future__ import annotations

from django.db import models


class IdempotencyKey(models.Model):
    key = models.CharField(max_length=200, unique=True)
    #: "started" while an attempt runs, "done" once its effect happened
    state = models.CharField(max_length=10)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "task idempotency key"

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"
