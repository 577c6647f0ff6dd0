"""``PERFSUITE`` keys of tasks (documented in docs/tasks.md)."""

from __future__ import annotations

from perfsuite.core.conf import Option, register_defaults
from perfsuite.core.validators import (
    boolean,
    choice,
    non_negative_int,
    non_negative_number,
    optional_str,
    positive_int,
    positive_number,
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
        "TASK_IMAGE_MAX_PIXELS": Option(
            25_000_000,
            positive_int,
            "Largest image (width x height) process_image decodes: each pixel costs up to 4 bytes.",
        ),
        "TASK_MAX_REDELIVERIES": Option(
            3,
            non_negative_int,
            "Deliveries after a lost attempt (its process died) before the run is dead-lettered.",
        ),
        "TASK_RUN_HISTORY": Option(
            True, boolean, "Record every run in the TaskRun table (the Task runs page)."
        ),
        "TASK_RUN_RETENTION": Option(
            7 * 86400, positive_int, "Seconds a finished run stays in the Task runs history."
        ),
        "TASK_RUN_MAX_ROWS": Option(
            100_000, positive_int, "Most runs kept in the history (the oldest go first)."
        ),
        "TASK_RUN_ARGUMENTS": Option(
            "redacted",
            choice("redacted", "full"),
            "How much of a run's arguments the Task runs page shows (redacted: names "
            "and types only).",
        ),
        "TASK_RUN_FLUSH_INTERVAL": Option(
            1.0, positive_number, "Seconds between two writes of a process's run records."
        ),
        "TASK_STUCK_FACTOR": Option(
            3.0,
            positive_number,
            "A run is stuck when it has run this many times its task's p99 runtime.",
        ),
        "TASK_STUCK_MIN_SECONDS": Option(
            60, positive_int, "A run is never called stuck before it has run this long."
        ),
        "TASK_QUEUE_SAMPLE_INTERVAL": Option(
            5.0,
            non_negative_number,
            "Seconds between two reads of the queue depth by a worker (0: never).",
        ),
    }
)
