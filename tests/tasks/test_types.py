"""The four task types: what each refuses at enqueue (a ValueError in the caller, never
a failure in a worker), and what each body does (run in-process here with ``apply()``;
tests/tasks/test_worker_types.py runs them on real workers)."""

from __future__ import annotations

import csv
import hashlib
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from PIL import Image, UnidentifiedImageError

from perfsuite.tasks import tasks
from perfsuite.tasks.processor import BackgroundTaskProcessor, task_processor
from perfsuite.tasks.task_types import check_report, register_task_types
from project.shop.models import Product


def test_the_four_types_are_registered() -> None:
    assert task_processor.task_types() == [
        "cpu_intensive",
        "generate_report",
        "process_image",
        "send_email",
    ]
    fresh = BackgroundTaskProcessor()
    register_task_types(fresh)
    assert fresh.task_types() == task_processor.task_types()
    with pytest.raises(ValueError, match=r"unknown task type 'resize'.*process_image"):
        task_processor.queue_task("resize", {})


MAIL = {"to": "ann@example.com", "subject": "Hi", "body": "Hello"}
REPORT = {"type": "products", "model": "shop.Product", "user_id": 1}

REFUSED = [
    ("send_email", {**MAIL, "to": "nobody"}, "not an e-mail address"),
    ("send_email", {"to": "ann@example.com", "body": "x"}, "subject must be"),
    ("send_email", {**MAIL, "subject": "a\nBcc: all@example.com"}, "one line"),
    ("send_email", {**MAIL, "body": "x" * 100_001}, "longer than"),
    ("send_email", {**MAIL, "cc": "b@example.com"}, "unknown keys: cc"),
    ("process_image", {"filename": "../settings.py"}, "relative name"),
    ("process_image", {"filename": "/etc/passwd"}, "relative name"),
    ("process_image", {"filename": "uploads/missing.png"}, "no image"),
    ("process_image", {"filename": "a.png", "width": 0}, "width must be"),
    ("process_image", {"filename": "a.png", "width": 5000}, "width must be"),
    ("process_image", {"filename": "a.png", "width": True}, "width must be"),
    ("generate_report", {**REPORT, "type": "Bad name!"}, "type must be"),
    ("generate_report", {**REPORT, "model": "nope.Model"}, "installed app_label.Model"),
    ("generate_report", {**REPORT, "fields": ["id", "secret"]}, "has no field secret"),
    ("generate_report", {**REPORT, "fields": "id"}, "fields must be a list"),
    ("generate_report", {"type": "products", "model": "shop.Product"}, "user_id must"),
    ("cpu_intensive", {"rounds": 0}, "rounds must be"),
    ("cpu_intensive", {"rounds": 10**9}, "rounds must be"),
    ("cpu_intensive", {"rounds": "5"}, "rounds must be"),
    ("cpu_intensive", {"seed": 5}, "seed must be"),
]


@pytest.mark.parametrize(("task_type", "data", "reason"), REFUSED)
def test_bad_data_is_a_value_error_at_enqueue(
    task_type: str, data: dict[str, Any], reason: str, sent: list[Any], media: Path
) -> None:
    (media / "a.png").write_bytes(b"not checked here")
    with pytest.raises(ValueError, match=reason):
        task_processor.queue_task(task_type, data)
    assert sent == []


@pytest.mark.django_db(transaction=True)  # sent on commit
def test_good_data_is_normalised_and_sent(sent: list[Any], media: Path) -> None:
    (media / "a.png").write_bytes(b"")
    task_processor.queue_task("process_image", {"filename": "a.png", "width": 64})
    task_processor.queue_task("cpu_intensive", {})
    assert [args[1] for args in sent] == [
        {"filename": "a.png", "width": 64, "height": 64},
        {"rounds": 100_000, "seed": ""},
    ]
    report = check_report({**REPORT, "fields": ["id", "author"], "model": "shop.Post"})
    assert report["fields"] == ["id", "author_id"] and report["model"] == "shop.Post"
    every = check_report(REPORT)["fields"]
    assert every[:2] == ["id", "name"] and "image" in every


def test_send_email_goes_through_the_email_backend(mailoutbox: list[Any]) -> None:
    result = tasks.send_email.apply(kwargs=MAIL).get()
    assert result == {"to": "ann@example.com", "subject": "Hi", "sent": 1}
    assert [(m.to, m.subject, m.body) for m in mailoutbox] == [(["ann@example.com"], "Hi", "Hello")]


def test_process_image_writes_a_thumbnail(media: Path) -> None:
    (media / "uploads").mkdir()
    Image.new("RGBA", (300, 100), (255, 0, 0, 128)).save(media / "uploads" / "wide.png")
    data = {"filename": "uploads/wide.png", "width": 90, "height": 90}
    result = tasks.process_image.apply(kwargs=data).get()
    assert result["thumbnail"] == "thumbnails/uploads/wide_90x90.png" and result["size"] == [90, 30]
    again = tasks.process_image.apply(kwargs=data).get()  # a redelivery overwrites
    assert again["thumbnail"] == result["thumbnail"]
    with Image.open(media / result["thumbnail"]) as thumb:
        assert (thumb.format, thumb.size, thumb.mode) == ("PNG", (90, 30), "RGBA")
    (media / "uploads" / "junk.png").write_bytes(b"not an image")
    failed = tasks.process_image.apply(kwargs={**data, "filename": "uploads/junk.png"})
    assert failed.failed() and isinstance(failed.result, UnidentifiedImageError)


@pytest.mark.django_db
def test_generate_report_streams_every_row(media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "REPORT_CHUNK", 7)  # several chunks, and a partial last one
    names = [f"Product {n:02}" for n in range(23)] + ["=HYPERLINK(evil)"]
    Product.objects.bulk_create(
        Product(name=name, price=Decimal("1.50"), description="") for name in names
    )
    data = {"type": "products", "model": "shop.Product", "fields": ["id", "name"], "user_id": 3}
    result = tasks.generate_report.apply(kwargs=data, task_id="t-1").get()
    assert result == {"type": "products", "file": "reports/3/t-1.csv", "rows": 24, "user_id": 3}
    with default_storage.open(result["file"], "r") as report:
        rows = list(csv.reader(report))
    assert rows[0] == ["id", "name"] and len(rows) == 25
    assert sorted(row[1] for row in rows[1:]) == sorted(["'=HYPERLINK(evil)", *names[:-1]])


def test_cpu_intensive_computes_the_digest_chain() -> None:
    result = tasks.cpu_intensive.apply(kwargs={"rounds": 1000, "seed": "s"}).get()
    digest = hashlib.sha256(b"s").digest()
    for _ in range(1000):
        digest = hashlib.sha256(digest).digest()
    assert result["digest"] == digest.hex() and result["rounds"] == 1000


@pytest.mark.django_db
def test_generate_report_memory_stays_bounded(media: Path) -> None:
    """A 12 MB report is written with a few MB of Python memory, whatever its length:
    rows come in chunks, and the file spools to disk past SPOOL_BYTES (1 MiB)."""
    text = "x" * 400
    Product.objects.bulk_create(
        (Product(name=f"P{n}", price=Decimal(1), description=text) for n in range(30_000)),
        batch_size=500,
    )
    data = {"type": "big", "model": "shop.Product", "fields": ["id", "description"], "user_id": 1}
    tracemalloc.start()
    try:
        result = tasks.generate_report.apply(kwargs=data, task_id="big").get()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = (media / result["file"]).stat().st_size
    assert result["rows"] == 30_000 and size > 12_000_000
    assert peak < size / 3, f"peak {peak} bytes for a {size}-byte report"
