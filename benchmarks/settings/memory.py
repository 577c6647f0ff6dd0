"""In-process MemoryMiddleware benchmarks: the middleware settings plus the memory app."""

from benchmarks.settings.middleware import *  # noqa: F403
from benchmarks.settings.middleware import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "perfsuite.memory"]
