"""What the task metrics and the run history read from a Celery message: the name of
its task, a header of its request, the publish time the suite stamps into it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: the message header carrying the publish time (seconds since the epoch)
PUBLISHED_HEADER = "perfsuite_published_at"


def name_of(sender: Any) -> str:
    """A task's (or a task name's) name, ``unknown`` when it has none."""
    name = getattr(sender, "name", sender)
    return str(name) if name else "unknown"


def header_of(request: Any, key: str) -> Any:
    """A header of a task's request (Celery copies some onto the request itself)."""
    value = getattr(request, key, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(key)
    return value


def epoch(value: Any) -> float | None:
    """A header's time as seconds since the epoch (a number or an ISO 8601 string)."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return when.timestamp()  # naive: local time, as Celery writes it without a zone
    except (TypeError, ValueError):
        return None
