"""The demo site's Celery app: the only place that owns a Celery instance."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _reliable(sender: Celery, **kwargs: object) -> None:
    # late acks, redelivery on worker loss, prefetch 1, time limits, result expiry:
    # the suite's defaults where the settings chose nothing (docs/tasks.md)
    from perfsuite.tasks.defaults import configure_celery

    configure_celery(sender)


def _ensure_broker_folders() -> None:
    """The file-system broker needs its folders before a producer or worker starts."""
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
    backend = str(app.conf.result_backend or "")
    if backend.startswith("file://"):
        Path(backend[len("file://") :]).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _setup(sender: Celery, **kwargs: object) -> None:
    _ensure_broker_folders()
