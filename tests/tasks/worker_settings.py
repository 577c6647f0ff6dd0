"""The demo's settings for worker tests: the test-only tasks, and short time limits (a
killed attempt's idempotency mark expires after TASK_TIME_LIMIT + 30 s, so the
redelivered task runs its body within a minute). The hard limit stays above billiard's
10 s wait before it declares a killed pool process's job lost: else the time limit
fails the job first, and it is not delivered again."""

# A worker loads Celery's configuration (and runs configure_celery) before
# django.setup() imports the apps: perfsuite.tasks.conf must have declared the TASK_*
# keys by then, else configure_celery fails inside Celery's signal (logged, swallowed)
# and the worker runs without late acks. Until perfsuite/tasks/defaults.py imports its
# conf itself (test_the_demo_worker_gets_the_reliable_defaults), declare them here.
import perfsuite.tasks.conf  # noqa: F401
from project.settings import *  # noqa: F403
from project.settings import PERFSUITE

# A delivery that finds a killed attempt's "started" mark retries every 5 s up to
# TASK_MAX_RETRIES times: 20 x 5 s outlasts the mark (20 + 30 s). With the defaults
# (5 x 5 s against 360 + 30 s) such a task fails with Running instead: reliable.py's
# retry needs a countdown or a retry budget that covers the mark's TTL.
PERFSUITE = {
    **PERFSUITE,
    "TASK_TIME_LIMIT": 20,
    "TASK_SOFT_TIME_LIMIT": 15,
    "TASK_MAX_RETRIES": 20,
}
CELERY_IMPORTS = ["tests.tasks.worker_tasks"]

# Two pool processes claim idempotency marks in the SQLite file at once: a deferred
# transaction that upgrades to a write fails at once with "database is locked" (the
# busy timeout does not apply); IMMEDIATE takes the write lock up front and waits.
# (The demo's own SQLite settings need the same for `make demo`'s two processes.)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}  # noqa: F405
