"""Settings of the demo site.

Embedded defaults with no environment (SQLite file, local-memory cache, a Celery
broker on the file system, DEBUG on); production parts switched on by
environment variables only:

- ``DATABASE_URL=postgres://...``: PostgreSQL through psycopg 3 with Django's pool.
- ``REDIS_URL=redis://...``: django-redis cache, Redis Celery broker and results,
  and the Redis metrics store.
- ``DJANGO_DEBUG=0``, ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS`` (comma-separated).
"""

from __future__ import annotations

import os
from pathlib import Path

import django

from .env import EnvError, database_from_env, flag, redis_url_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PERFSUITE_VAR_DIR", BASE_DIR / "var"))

DEBUG = flag("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise EnvError(
            "DJANGO_SECRET_KEY", "must be set when DJANGO_DEBUG=0", "a long random string"
        )
    SECRET_KEY = "django-insecure-demo-only-key-never-use-in-production"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "perfsuite.perf_monitor",
    "perfsuite.memo_components",
    "perfsuite.query_opt",
    "perfsuite.cache",
    "perfsuite.static_opt",
    "perfsuite.tasks",
    "perfsuite.memory",
    "project.shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "perfsuite.perf_monitor.middleware.PerformanceMiddleware",
    "perfsuite.static_opt.middleware.StaticFilesMiddleware",
    # high: no middleware above it replaces the response its check rides on (docs/memory.md)
    "perfsuite.memory.middleware.MemoryMiddleware",
    "perfsuite.query_opt.middleware.QueryInstrumentationMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "perfsuite.cache.middleware.ResponseCacheMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_from_env(BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url_from_env()

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # every worker shares memoized component renders and their invalidations
    PERFSUITE: dict[str, object] = {
        "STORE": "redis",
        "REDIS_URL": REDIS_URL,
        "COMPONENT_CACHE_ALIAS": "default",
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # a broker that needs no server: kombu's file-system transport with acknowledgements
    # (a task whose worker is killed goes back to the queue: perfsuite.tasks.fsbroker)
    _broker_dir = VAR_DIR / "celery" / "broker"
    _results_dir = VAR_DIR / "celery" / "results"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "perfsuite.tasks.fsbroker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
    CELERY_RESULT_BACKEND = "file://" + str(_results_dir)
    # every process of the demo (web server, Celery worker) adds into one dashboard
    PERFSUITE = {"STORE": "sqlite", "SQLITE_PATH": str(VAR_DIR / "metrics.sqlite3")}

# The demo shows every Server-Timing entry (db, cache, ...) while DEBUG is on.
PERFSUITE["SERVER_TIMING_DETAILS"] = "all" if DEBUG else "staff"
# Memory: the demo checks often (every 5 requests, 2 s apart at least) and cleans up
# over 400 MB of RSS, so /memory/leak/ makes a cleanup visible within a few clicks.
PERFSUITE.update(MEMORY_CHECK_EVERY_REQUESTS=5, MEMORY_CHECK_INTERVAL=2.0, MEMORY_THRESHOLD_MB=400)

# The Prometheus URL (/metrics/) is closed by default: a bearer token opens it.
if os.environ.get("PERFSUITE_PROMETHEUS_TOKEN"):
    PERFSUITE["PROMETHEUS_TOKEN"] = os.environ["PERFSUITE_PROMETHEUS_TOKEN"]

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
if django.VERSION >= (6, 0):
    # Django's @task/enqueue run on the Celery workers (perfsuite.tasks, docs/tasks.md)
    TASKS = {"default": {"BACKEND": "perfsuite.tasks.django_tasks.CeleryBackend"}}

# The send_email task's mails: one file per message under var/mail/ (the demo sends
# none); EMAIL_BACKEND=smtp with EMAIL_HOST... in production.
if django.VERSION >= (6, 1):  # MAILERS replaces EMAIL_BACKEND (deprecated in 6.1)
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = "shop@example.com"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("PERFSUITE_STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "perfsuite.static_opt.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "perfsuite": {"handlers": ["console"], "level": "INFO"},
        # the traceback of a 500 reaches the server's log with DEBUG off too (Django's
        # own console handler logs only with DEBUG on); one copy either way
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
