"""Background work on Celery workers."""
