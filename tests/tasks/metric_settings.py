"""The demo site's settings for the worker metrics tests. By default the periodic flush
is pushed out of reach (10 minutes), so every count must arrive through the flushes at
exit (a prefork child's ``worker_process_shutdown``, the publisher's ``atexit``);
``METRIC_FLUSH_INTERVAL`` sets it, and workers read the queue depth every half second."""

import os

from project.settings import *  # noqa: F403
from project.settings import PERFSUITE as DEMO

PERFSUITE: dict[str, object] = {  # type: ignore[no-redef]
    **DEMO,
    "FLUSH_INTERVAL": float(os.environ.get("METRIC_FLUSH_INTERVAL", "600")),
    "TASK_QUEUE_SAMPLE_INTERVAL": 0.5,
}
