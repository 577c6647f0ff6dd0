"""WSGI entry point: ``gunicorn project.wsgi``.

The front door answers static files before Django's handler (docs/static_opt.md);
``PERFSUITE_FRONT=0`` serves everything through Django's middleware instead."""

import os

from django.core.wsgi import get_wsgi_application

from perfsuite.core.front import perfsuite_front

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

application = get_wsgi_application()
if os.environ.get("PERFSUITE_FRONT", "1") != "0":
    application = perfsuite_front(application)
