"""Queue depth, read from the broker (sampled, never per task), defensively.

Works through kombu's own ``queue_declare(passive=True)``, so it counts what each
transport counts: ``LLEN`` of the queue's lists on Redis (with its priority lists),
the message files on the file-system broker, ``message_count`` on AMQP. A broker that
cannot be reached gives ``None``, never an exception, and costs at most ``timeout``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from perfsuite.core.conf import perf_settings
from perfsuite.core.metrics import registry

from .metrics import record_queue_depth

logger = logging.getLogger("perfsuite.tasks")


def default_queues(app: Any) -> list[str]:
    """The queues ``app`` routes to: ``task_default_queue`` and ``task_queues``."""
    names = [str(app.conf.task_default_queue or "celery")]
    for queue in app.conf.task_queues or ():
        name = str(getattr(queue, "name", queue))
        if name not in names:
            names.append(name)
    return names


def queue_depths(
    app: Any, queues: Iterable[str] | None = None, timeout: float = 1.0
) -> dict[str, int | None]:
    """Messages waiting per queue; ``None`` for a queue that could not be read."""
    names = list(queues) if queues is not None else default_queues(app)
    depths: dict[str, int | None] = dict.fromkeys(names)
    try:
        from kombu.exceptions import ChannelError
    except ImportError:  # pragma: no cover
        return depths
    try:
        with app.connection_for_read(connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
            for name in names:
                channel = conn.channel()
                try:
                    declared = channel.queue_declare(queue=name, passive=True)
                    depths[name] = int(declared.message_count)
                except ChannelError:
                    depths[name] = 0  # no such queue (Redis deletes an empty list): none waiting
                except Exception:
                    logger.debug("perfsuite could not read queue %s", name, exc_info=True)
                finally:
                    try:
                        channel.close()
                    except Exception:
                        pass
    except Exception as exc:
        logger.debug("perfsuite could not reach the broker for queue depths: %s", exc)
    return depths


def sample(app: Any, queues: Iterable[str] | None = None) -> dict[str, int | None]:
    """Read the depths and record them as this process's gauges."""
    depths = queue_depths(app, queues)
    for name, depth in depths.items():
        if depth is not None:
            record_queue_depth(name, depth)
    return depths


class Sampler:
    """A daemon thread of a worker's main process sampling its queues every
    ``TASK_QUEUE_SAMPLE_INTERVAL`` seconds (0: never)."""

    def __init__(self, app: Any, queues: list[str]) -> None:
        self.app = app
        self.queues = queues
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        if self._interval() <= 0:
            return False
        self._thread = threading.Thread(target=self._run, name="perfsuite-queues", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()

    def _interval(self) -> float:
        try:
            return float(perf_settings.TASK_QUEUE_SAMPLE_INTERVAL)
        except Exception:
            return 5.0

    def _run(self) -> None:
        while True:
            try:
                sample(self.app, self.queues)
                # a labelled gauge's set() does not start the core flusher thread, and a
                # worker's main process may record nothing else: send them from here
                registry.flush()
            except Exception:  # never let the thread die
                logger.warning("perfsuite queue depth sampling failed", exc_info=True)
            if self._stop.wait(max(0.5, self._interval())):
                return
