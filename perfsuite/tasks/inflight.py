"""What is in flight and may be lost or stuck: unacknowledged broker messages and runs
that have run far longer than their task usually does.

- :func:`unacknowledged`: every message a worker took and has not acknowledged. On
  Redis these are kombu's ``unacked`` hash and its index (the time each was taken): a
  message of a worker that died whole (SIGKILL, a lost machine) stays there, invisible
  to every other worker, until its ``visibility_timeout`` has passed since it was
  taken; ``redelivery_at`` says when. On the embedded broker they are the claimed
  files of ``.claimed/<owner>/``; a dead owner's claims go back within the broker's
  ``recover_interval`` (5 s). Read on demand (the page, ``taskstats``), bounded, and
  an unreachable broker gives an empty list and an error text, never an exception.
- :func:`stuck_runs`: runs started and not finished after ``TASK_STUCK_FACTOR`` times
  their task's p99 runtime (over every worker, from the metrics store), and never
  before ``TASK_STUCK_MIN_SECONDS``.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from perfsuite.core.conf import perf_settings

from . import owners

logger = logging.getLogger("perfsuite.tasks")
#: most messages read from the broker for one look
LIMIT = 200


def _when(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _entry(message: Any, queue: str, taken: float, now: float) -> dict[str, Any]:
    headers = (message or {}).get("headers") or {}
    return {
        "task_id": str(headers.get("id") or ""),
        "task": str(headers.get("task") or ""),
        "queue": queue,
        "taken_at": _when(taken),
        "age_seconds": round(max(0.0, now - taken), 1),
        "worker": "",
        "owner_alive": None,
        "redelivery_at": None,
    }


def _redis(channel: Any, now: float) -> list[dict[str, Any]]:
    client = channel.client
    taken = client.zrange(channel.unacked_index_key, 0, LIMIT - 1, withscores=True)
    if not taken:
        return []
    tags = [tag for tag, _ in taken]
    payloads = client.hmget(channel.unacked_key, tags)
    visibility = float(channel.visibility_timeout)
    found = []
    for (_tag, score), raw in zip(taken, payloads, strict=True):
        if raw is None:  # acknowledged between the two reads
            continue
        try:
            message, _exchange, routing_key = json.loads(raw)
        except (TypeError, ValueError):
            continue
        entry = _entry(message, str(routing_key or ""), float(score), now)
        entry["redelivery_at"] = _when(float(score) + visibility)
        found.append(entry)
    return found


def _files(channel: Any, now: float) -> list[dict[str, Any]]:
    root = Path(channel.claimed_root)
    found: list[dict[str, Any]] = []
    try:
        folders = sorted(
            (entry for entry in os.scandir(root) if entry.is_dir()), key=lambda e: e.name
        )
    except FileNotFoundError:
        return []
    recover = float(channel.transport_options.get("recover_interval", 5))
    for folder in folders:
        dead = owners.is_dead(folder.name)
        for name in sorted(os.listdir(folder.path))[:LIMIT]:
            path = Path(folder.path) / name
            try:
                taken = path.stat().st_ctime  # the claim's rename
                message = json.loads(path.read_bytes())
            except (OSError, ValueError):
                continue
            queue = name.partition(".")[2].removesuffix(".msg")
            entry = _entry(message, queue, taken, now)
            entry["worker"] = folder.name
            entry["owner_alive"] = not dead
            if dead:
                entry["redelivery_at"] = _when(now + recover)
            found.append(entry)
            if len(found) >= LIMIT:
                return found
    return found


def unacknowledged(app: Any = None, timeout: float = 1.0) -> tuple[list[dict[str, Any]], str]:
    """(messages taken and not acknowledged, oldest first; an error text or "")."""
    from .fsbroker import Channel as FileChannel

    try:
        if app is None:
            from celery import current_app

            app = current_app
        now = datetime.now(UTC).timestamp()
        with app.connection_for_read(connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
            channel = conn.default_channel
            if isinstance(channel, FileChannel):
                found = _files(channel, now)
            elif hasattr(channel, "unacked_index_key"):
                found = _redis(channel, now)
            else:  # AMQP: the broker redelivers when the connection closes
                return [], ""
    except Exception as exc:
        logger.debug("perfsuite could not read unacknowledged messages", exc_info=True)
        return [], f"the broker could not be read: {exc}"
    _add_workers(found)
    found.sort(key=lambda e: e["taken_at"])
    return found, ""


def _add_workers(found: list[dict[str, Any]]) -> None:
    """The worker that took each message, from the run history (Redis does not say)."""
    from .models import TaskRun

    missing = {e["task_id"] for e in found if not e["worker"] and e["task_id"]}
    if not missing:
        return
    try:
        workers = dict(TaskRun.objects.filter(task_id__in=missing).values_list("task_id", "worker"))
    except Exception:
        return
    for entry in found:
        entry["worker"] = entry["worker"] or workers.get(entry["task_id"], "")


def p99_by_task() -> dict[str, float]:
    """Each task's p99 runtime over the last hour, summed over every worker."""
    from perfsuite.core.metrics import registry

    from .metrics import RUNTIME

    try:
        snapshot = registry.snapshot("1h")
    except Exception:
        return {}
    found: dict[str, float] = {}
    for key, hist in snapshot.histograms.items():
        if key.name == RUNTIME.name and hist.count:
            value = hist.quantile(0.99, snapshot.mapping)
            if value is not None:
                found[key.label_dict.get("task", "")] = float(value)
    return found


def stuck_runs(limit: int = 100) -> list[dict[str, Any]]:
    """Started runs past their task's stuck threshold, the longest-running first."""
    from .models import TaskRun

    conf = perf_settings.as_dict()
    factor, floor = float(conf["TASK_STUCK_FACTOR"]), float(conf["TASK_STUCK_MIN_SECONDS"])
    now = datetime.now(UTC)
    candidates = TaskRun.objects.filter(
        state=TaskRun.STARTED, last_attempted_at__lt=now - timedelta(seconds=floor)
    ).order_by("last_attempted_at")[: limit * 5]
    p99 = p99_by_task()
    found = []
    for run in candidates:
        threshold = max(floor, factor * p99.get(run.task_name, 0.0))
        running = (now - run.last_attempted_at).total_seconds() if run.last_attempted_at else 0
        if running >= threshold:
            found.append(
                {
                    "run": run,
                    "running_seconds": round(running, 1),
                    "threshold_seconds": round(threshold, 1),
                    "p99_seconds": p99.get(run.task_name),
                }
            )
            if len(found) >= limit:
                break
    return found
