"""The demo site's settings for the worker metrics test: the periodic flush is pushed
out of reach (10 minutes), so every count must arrive through the flushes at exit
(a prefork child's ``worker_process_shutdown``, the publisher's ``atexit``)."""

from project.settings import *  # noqa: F403
from project.settings import PERFSUITE as DEMO

PERFSUITE = {**DEMO, "FLUSH_INTERVAL": 600}  # type: ignore[dict-item]
