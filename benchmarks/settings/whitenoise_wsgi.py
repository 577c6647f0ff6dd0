"""WhiteNoise's own WSGI wrapper around the benchmark site (bench_static_http), the way
its documentation shows for a non-Django-middleware setup."""

import os

from django.core.wsgi import get_wsgi_application
from whitenoise import WhiteNoise

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings.static")

application = WhiteNoise(
    get_wsgi_application(), root=os.environ["PERFSUITE_STATIC_ROOT"], prefix="static/"
)
application.max_age = 31536000
