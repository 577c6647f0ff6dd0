"""The guide's four task types as Celery tasks (``@shared_task``, base :class:`.ReliableTask`).

Queue them through ``task_processor.queue_task(<type>, data)``, which checks the data
first (:mod:`.task_types`); they take ids and names, never model instances.

- ``send_email``: one mail through Django's e-mail backend (``EMAIL_BACKEND``);
- ``process_image``: a PNG thumbnail of an image in the default storage, written next
  to it under ``thumbnails/`` (Pillow); an image over ``TASK_IMAGE_MAX_PIXELS`` fails
  before it is decoded, one within it is decoded once (its pixels x up to 4 bytes);
- ``generate_report``: a CSV of a model's rows streamed to the default storage in
  bounded memory (``iterator(chunk_size=…)`` into a spooled temporary file), under
  ``reports/<user_id>/<task_id>.csv``;
- ``cpu_intensive``: pure-Python CPU work; run it on Celery's prefork pool (one
  process per job, the default ``--pool=prefork``), not ``threads``/``gevent``, where
  every job would share one GIL.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import smtplib
import tempfile
import threading
import time
from pathlib import PurePosixPath
from typing import Any

from celery import shared_task

from .reliable import ReliableTask, TransientError
from .task_types import check_pixels

logger = logging.getLogger(__name__)

#: rows fetched per database round trip, and written per chunk
REPORT_CHUNK = 2000
#: a report bigger than this goes from memory to a temporary file on disk
SPOOL_BYTES = 1 << 20
#: CSV text buffered before it is encoded into the spooled file
FLUSH_CHARS = 64 * 1024
#: spreadsheet programs run a cell starting with these as a formula
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def thumbnail_name(filename: str, width: int, height: int) -> str:
    """Where ``process_image`` writes the thumbnail of ``filename``."""
    stem = PurePosixPath(filename).with_suffix("")
    return f"thumbnails/{stem}_{width}x{height}.png"


def report_name(user_id: int, task_id: str) -> str:
    """Where ``generate_report`` writes the report of task ``task_id``."""
    return f"reports/{int(user_id)}/{task_id}.csv"


def _replace(storage: Any, name: str, content: Any) -> str:
    """Write ``name`` afresh: a redelivered task overwrites its own earlier output."""
    if storage.exists(name):
        storage.delete(name)
    return str(storage.save(name, content))


@shared_task(
    base=ReliableTask,
    bind=True,
    autoretry_for=(
        TransientError,
        ConnectionError,
        TimeoutError,
        smtplib.SMTPServerDisconnected,
        smtplib.SMTPConnectError,
    ),
)
def send_email(
    self: Any, to: str, subject: str, body: str, from_email: str | None = None
) -> dict[str, Any]:
    from django.core.mail import send_mail

    sent = send_mail(subject, body, from_email, [to], fail_silently=False)
    logger.info("Email sent to %s", to)
    return {"to": to, "subject": subject, "sent": sent}


#: EXIF orientations that turn the image a quarter: its width becomes its height
_QUARTER_TURNS = (5, 6, 7, 8)


@shared_task(base=ReliableTask, bind=True)
def process_image(self: Any, filename: str, width: int, height: int) -> dict[str, Any]:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from PIL import ExifTags, Image, ImageOps

    with default_storage.open(filename, "rb") as source, Image.open(source) as image:
        # the header's size, before anything decodes it (a ValueError: not retried)
        check_pixels(image.width, image.height, filename)
        # the thumbnail is made from the one decoded image, then turned upright (turning
        # the full image first would copy it whole: twice the memory)
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        box = (height, width) if orientation in _QUARTER_TURNS else (width, height)
        image.draft("RGB", box)  # JPEG: decode at a reduced scale
        image.thumbnail(box)
        ImageOps.exif_transpose(image, in_place=True)
        thumb: Image.Image = image
        if thumb.mode not in ("RGB", "RGBA", "L", "LA"):
            thumb = thumb.convert("RGBA")
        out = io.BytesIO()
        thumb.save(out, "PNG", optimize=True)
        size = [thumb.width, thumb.height]
    name = _replace(
        default_storage, thumbnail_name(filename, width, height), ContentFile(out.getvalue())
    )
    logger.info("Processed image %s", filename)
    return {"filename": filename, "thumbnail": name, "size": size}


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@shared_task(base=ReliableTask, bind=True)
def generate_report(
    self: Any, type: str, model: str, fields: list[str], user_id: int
) -> dict[str, Any]:
    from django.apps import apps
    from django.core.files import File
    from django.core.files.storage import default_storage

    rows = apps.get_model(model)._default_manager.order_by("pk").values_list(*fields)
    count = 0
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        chunk = io.StringIO()
        writer = csv.writer(chunk)
        writer.writerow(fields)
        for row in rows.iterator(chunk_size=REPORT_CHUNK):
            writer.writerow([_cell(v) for v in row])
            count += 1
            if chunk.tell() > FLUSH_CHARS:
                spool.write(chunk.getvalue().encode())
                chunk.seek(0)
                chunk.truncate()
        spool.write(chunk.getvalue().encode())
        spool.seek(0)
        name = _replace(
            default_storage,
            report_name(user_id, self.request.id),
            File(spool, name=f"{type}.csv"),
        )
    logger.info("Generated report %s (%d rows)", type, count)
    return {"type": type, "file": name, "rows": count, "user_id": user_id}


@shared_task(base=ReliableTask, bind=True, idempotent=False)
def cpu_intensive(self: Any, rounds: int, seed: str = "") -> dict[str, Any]:
    """``rounds`` chained SHA-256 digests: work that holds the GIL all along (a pure
    computation: running it twice is harmless, so no idempotency mark)."""
    if threading.current_thread() is not threading.main_thread():
        logger.warning(
            "cpu_intensive runs in a thread: start its worker with --pool=prefork, "
            "or every CPU-bound job of that worker shares one GIL"
        )
    started = time.process_time()
    digest = hashlib.sha256(seed.encode()).digest()
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return {
        "rounds": rounds,
        "digest": digest.hex(),
        "pid": os.getpid(),
        "cpu_seconds": round(time.process_time() - started, 3),
    }
