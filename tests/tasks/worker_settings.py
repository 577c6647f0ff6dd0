"""The demo's settings for worker tests: the test-only tasks, and short time limits (a
killed attempt's idempotency mark expires after TASK_TIME_LIMIT + 30 s, so the
redelivered task runs its body within a minute). The hard limit stays above billiard's
10 s wait before it declares a killed pool process's job lost: else the time limit
fails the job first, and it is not delivered again."""

from project.settings import *  # noqa: F403
from project.settings import PERFSUITE

PERFSUITE = {**PERFSUITE, "TASK_TIME_LIMIT": 20, "TASK_SOFT_TIME_LIMIT": 15}
CELERY_IMPORTS = ["tests.tasks.worker_tasks"]
