"""The guide's four task types: what each accepts, checked at enqueue.

Each validator takes the caller's data and returns the exact JSON payload the task
receives, or raises ``ValueError`` with the reason: a bad address, a missing image, an
image over the pixel budget, an unknown report or too much CPU work fails in the
caller, not later in a worker. Every ``BackgroundTaskProcessor`` knows the four
(:func:`guide_types`, on first use); :func:`register_task_types` registers them again
on a processor, replacing its own of those names::

    task_processor.queue_task("send_email", {"to": "a@example.com", "subject": "Hi", "body": "…"})
    task_processor.queue_task("process_image", {"filename": "uploads/cat.jpg", "width": 128})
    task_processor.queue_task(
        "generate_report", {"type": "products", "model": "shop.Product", "user_id": 7}
    )
    task_processor.queue_task("cpu_intensive", {"rounds": 200_000, "seed": "abc"})
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from perfsuite.core.conf import perf_settings

from . import conf as _declared  # noqa: F401  (TASK_IMAGE_MAX_PIXELS)

MAX_SUBJECT = 200
MAX_BODY = 100_000
MAX_THUMBNAIL = 1024
MAX_ROUNDS = 5_000_000
MAX_FIELDS = 50


def _text(data: Mapping[str, Any], key: str, limit: int, *, required: bool = True) -> str:
    value = data.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"{key} must be a non-empty string")
    if len(value) > limit:
        raise ValueError(f"{key} is longer than {limit} characters")
    return value


def _int(data: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{key} must be an integer from {low} to {high}")
    return value


def _unknown(data: Mapping[str, Any], allowed: set[str]) -> None:
    extra = sorted(str(k) for k in data if k not in allowed)
    if extra:
        raise ValueError(f"unknown keys: {', '.join(extra)}")


def check_email(data: Mapping[str, Any]) -> dict[str, Any]:
    _unknown(data, {"to", "subject", "body", "from_email"})
    to = _text(data, "to", 254)
    try:
        validate_email(to)
    except ValidationError:
        raise ValueError(f"to is not an e-mail address: {to!r}") from None
    subject = _text(data, "subject", MAX_SUBJECT)
    if "\n" in subject or "\r" in subject:
        raise ValueError("subject must be one line")
    checked = {"to": to, "subject": subject, "body": _text(data, "body", MAX_BODY)}
    if data.get("from_email") is not None:
        checked["from_email"] = _text(data, "from_email", 254)
    return checked


def storage_name(value: Any, key: str = "filename") -> str:
    """A relative name inside the default storage (no absolute path, no ``..``)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a file name in the default storage")
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or "\\" in value:
        raise ValueError(f"{key} must be a relative name inside the storage: {value!r}")
    return str(path)


def max_pixels() -> int:
    """``TASK_IMAGE_MAX_PIXELS``: the largest image (width x height) decoded."""
    return int(perf_settings.as_dict()["TASK_IMAGE_MAX_PIXELS"])


def check_pixels(width: int, height: int, what: str = "the image") -> None:
    """``ValueError`` when an image of ``width`` x ``height`` is over the pixel budget:
    decoded it would take width x height x bytes per pixel of its mode (4 for RGB and
    RGBA, which Pillow stores in 4 bytes; 1 for L and P)."""
    limit = max_pixels()
    if width * height > limit:
        raise ValueError(
            f"{what} is {width} x {height} = {width * height:,} pixels, more than the "
            f"{limit:,} of TASK_IMAGE_MAX_PIXELS"
        )


def image_size(name: str) -> tuple[int, int] | None:
    """The size an image of the default storage declares in its header (nothing is
    decoded); ``None`` when Pillow cannot read it (the task then fails at once)."""
    from django.core.files.storage import default_storage

    try:
        from PIL import Image
    except ImportError:  # process_image checks again, where Pillow must be
        return None
    with default_storage.open(name, "rb") as source:
        try:
            with Image.open(source) as image:
                return image.size
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValueError(
                f"{name} is larger than Pillow's limit (MAX_IMAGE_PIXELS) and than "
                f"the {max_pixels():,} pixels of TASK_IMAGE_MAX_PIXELS"
            ) from None
        except Exception:  # not an image, or a broken one
            return None


def check_image(data: Mapping[str, Any]) -> dict[str, Any]:
    from django.core.files.storage import default_storage

    _unknown(data, {"filename", "width", "height"})
    name = storage_name(data.get("filename"))
    width = _int(data, "width", 128, 1, MAX_THUMBNAIL)
    height = _int(data, "height", width, 1, MAX_THUMBNAIL)
    if not default_storage.exists(name):
        raise ValueError(f"no image {name!r} in the default storage")
    size = image_size(name)
    if size is not None:
        check_pixels(*size, what=name)
    return {"filename": name, "width": width, "height": height}


def check_report(data: Mapping[str, Any]) -> dict[str, Any]:
    """``type`` names the report (a slug: its file name), ``model`` is an installed
    model's ``app_label.Model``, ``fields`` its columns in order (concrete fields by
    name or attname: ``author_id``; default: every concrete field), ``user_id`` the
    requester (the file goes under ``reports/<user_id>/``). The caller (a view) picks
    the model and fields, never the user."""
    from django.apps import apps

    _unknown(data, {"type", "model", "fields", "user_id"})
    kind = data.get("type")
    if not isinstance(kind, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,49}", kind):
        raise ValueError("type must be a report name: lower-case letters, digits, - and _")
    label = data.get("model")
    try:
        model = apps.get_model(str(label))
    except (LookupError, ValueError):
        raise ValueError(f"model must be an installed app_label.Model, not {label!r}") from None
    columns = {f.name: f.attname for f in model._meta.concrete_fields}
    columns.update({f.attname: f.attname for f in model._meta.concrete_fields})
    fields = data.get("fields") or [f.attname for f in model._meta.concrete_fields]
    if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
        raise ValueError(f"fields must be a list of at most {MAX_FIELDS} field names")
    unknown = [str(f) for f in fields if f not in columns]
    if unknown:
        raise ValueError(f"{label} has no field {', '.join(unknown)}")
    return {
        "type": kind,
        "model": model._meta.label,
        "fields": [columns[f] for f in fields],
        "user_id": _int(data, "user_id", 0, 1, 2**63 - 1),
    }


def check_cpu(data: Mapping[str, Any]) -> dict[str, Any]:
    _unknown(data, {"rounds", "seed"})
    seed = data.get("seed", "")
    if not isinstance(seed, str) or len(seed) > 200:
        raise ValueError("seed must be a string of at most 200 characters")
    return {"rounds": _int(data, "rounds", 100_000, 1, MAX_ROUNDS), "seed": seed}


def guide_types() -> dict[str, tuple[Any, Any]]:
    """The four types: name -> (Celery task, validator)."""
    from .tasks import cpu_intensive, generate_report, process_image, send_email

    return {
        "send_email": (send_email, check_email),
        "process_image": (process_image, check_image),
        "generate_report": (generate_report, check_report),
        "cpu_intensive": (cpu_intensive, check_cpu),
    }


def register_task_types(processor: Any = None) -> None:
    """Register the four types (on ``task_processor`` unless told otherwise), replacing
    that processor's own types of those names."""
    from .processor import task_processor

    target = processor if processor is not None else task_processor
    for name, (task, validate) in guide_types().items():
        target.register(name, task, validate)
