"""The worker tests' settings with a small redelivery limit (a poison task is
dead-lettered after its third delivery)."""

from tests.tasks.worker_settings import *  # noqa: F403
from tests.tasks.worker_settings import PERFSUITE

PERFSUITE = {**PERFSUITE, "TASK_MAX_REDELIVERIES": 2}
