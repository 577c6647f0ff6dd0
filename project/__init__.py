"""The demo site of django-perfsuite. Nothing in ``perfsuite`` imports this package."""

from .celery import app as celery_app

__all__ = ["celery_app"]
