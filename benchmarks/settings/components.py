"""Settings of bench_memo_components.py: the test settings (the demo's apps, SQLite in
memory) plus django-components 0.152 configured as its installation guide says
(``django_components`` in INSTALLED_APPS, its template loader behind the cached loader,
its URLs), a django-redis alias on the server the benchmark started
(``BENCH_REDIS_URL``) and no shared component alias unless a config asks for one.

django-components patches ``Template``, ``IncludeNode`` and ``InclusionNode`` when
its app is ready; the benchmark restores Django's own methods for the configs that
do not use it (and reports the patches' cost on plain includes as a row of its own).
"""

import os

from project.settings import BASE_DIR
from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_components"]
ROOT_URLCONF = "benchmarks.settings.components_urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "loaders": [
                (
                    "django.template.loaders.cached.Loader",
                    [
                        "django.template.loaders.filesystem.Loader",
                        "django.template.loaders.app_directories.Loader",
                        "django_components.template_loader.Loader",
                    ],
                )
            ],
        },
    },
]
# the benchmark defines its components itself; nothing to discover or reload
COMPONENTS = {"autodiscover": False, "dirs": [], "app_dirs": [], "reload_on_file_change": "off"}
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DATABASE_ROUTERS: list[str] = []
CACHES = {
    # room for every card of the page (LocMemCache keeps 300 entries by default)
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    },
    "redis": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    },
}
PERFSUITE = {"STORE": "local", "N_PLUS_ONE_MODE": "off"}
MIDDLEWARE: list[str] = []
LOGGING_CONFIG = None
