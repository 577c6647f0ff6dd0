"""``PERFSUITE`` keys of tasks (documented in docs/tasks.md)."""

from __future__ import annotations

from perfsuite.core.conf import Option, register_defaults
from perfsuite.core.validators import (
    boolean,
    non_negative_int,
    non_negative_number,
    optional_str,
    positive_int,
)

register_defaults(
    {
        "TASK_SOFT_TIME_LIMIT": Option(
            300, positive_int, "Seconds before a task gets SoftTimeLimitExceeded."
        ),
        "TASK_TIME_LIMIT": Option(
            360, positive_int, "Seconds before the worker process running a task is killed."
        ),
        "TASK_MAX_RETRIES": Option(
            5, non_negative_int, "Retries of a task that failed with a transient error."
        ),
        "TASK_RETRY_BACKOFF_MAX": Option(
            600, positive_int, "Longest delay between two retries, in seconds (with jitter)."
        ),
        "TASK_IDEMPOTENCY_TTL": Option(
            86400, positive_int, "Seconds an idempotency key keeps a task from running again."
        ),
        "TASK_IDEMPOTENCY_ALIAS": Option(
            None,
            optional_str,
            "The CACHES alias holding idempotency keys (None: the default alias).",
        ),
        "TASK_RESULT_EXPIRES": Option(
            86400, positive_int, "Seconds task results stay in the result backend."
        ),
        "TASK_OUTBOX": Option(
            False, boolean, "Write tasks to an outbox table when the broker is unreachable."
        ),
        "TASK_QUEUE_SAMPLE_INTERVAL": Option(
            5.0,
            non_negative_number,
            "Seconds between two reads of the queue depth by a worker (0: never).",
        ),
    }
)
