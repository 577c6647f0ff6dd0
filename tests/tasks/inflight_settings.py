"""The worker tests' settings with a short stuck threshold (1 s)."""

from tests.tasks.worker_settings import *  # noqa: F403
from tests.tasks.worker_settings import PERFSUITE

PERFSUITE = {**PERFSUITE, "TASK_STUCK_MIN_SECONDS": 1}
