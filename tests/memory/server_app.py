"""The WSGI and ASGI applications of tests/memory/server_settings.py, for gunicorn:
``tests.memory.server_app:wsgi``, ``tests.memory.server_app:asgi``.

Loading it runs one query, as an application warming a cache at start-up does: a
preloaded gunicorn master then holds a database connection when it forks.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.memory.server_settings")

from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application
from django.db import connection

wsgi = get_wsgi_application()
asgi = get_asgi_application()

with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
