"""The tasks app's metrics and what it records into them (per task name, bounded).

Labels are task names (a bounded set: the code defines them) and queue names, never
arguments. With the Redis store every worker process of every machine, and every
process that publishes, adds into one view.
"""

from __future__ import annotations

from perfsuite.core import metrics

PUBLISHED = metrics.counter("perfsuite_tasks_published", "Tasks sent to the broker", ("task",))
STARTED = metrics.counter("perfsuite_tasks_started", "Tasks a worker started", ("task",))
SUCCEEDED = metrics.counter("perfsuite_tasks_succeeded", "Tasks that returned", ("task",))
FAILED = metrics.counter("perfsuite_tasks_failed", "Tasks that raised (no retry)", ("task",))
RETRIED = metrics.counter("perfsuite_tasks_retried", "Retries scheduled", ("task",))
RUNTIME = metrics.histogram("perfsuite_tasks_runtime_seconds", "Time in the task body", ("task",))
QUEUE_WAIT = metrics.histogram(
    "perfsuite_tasks_queue_wait_seconds", "From publish to the start in a worker", ("task",)
)
#: sampled from the broker (not per task) by each worker's main process, per queue
QUEUE_DEPTH = metrics.gauge(
    "perfsuite_tasks_queue_depth", "Messages waiting in the broker queue", ("queue",)
)

#: the counters by the name the panel and ``taskstats`` show
COUNTERS = {
    "published": PUBLISHED,
    "started": STARTED,
    "succeeded": SUCCEEDED,
    "failed": FAILED,
    "retried": RETRIED,
}


def record_published(task: str) -> None:
    PUBLISHED.labels(task).inc()


def record_started(task: str, queue_wait: float | None) -> None:
    STARTED.labels(task).inc()
    if queue_wait is not None:
        QUEUE_WAIT.labels(task).observe(max(0.0, queue_wait))


def record_finished(task: str, runtime: float | None, outcome: str | None = None) -> None:
    """A run ended: its runtime and its outcome (a key of :data:`COUNTERS`)."""
    if runtime is not None:
        RUNTIME.labels(task).observe(runtime)
    counter = COUNTERS.get(outcome) if outcome else None
    if counter is not None:
        counter.labels(task).inc()


def record_queue_depth(queue: str, depth: int) -> None:
    QUEUE_DEPTH.labels(queue).set(depth)
