"""The pixel budget of images (``TASK_IMAGE_MAX_PIXELS``): a small file that declares
a huge image (a solid PNG of 12,000 x 12,000 pixels is 420 KB) is refused before
anything decodes it, by the demo's upload form, by ``queue_task`` (its header only)
and by ``process_image`` itself; an image within the budget costs one decoded copy.

The PNGs are written chunk by chunk (a row at a time through zlib), so the test never
holds the pixels it describes."""

from __future__ import annotations

import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from PIL import Image, ImageFile

from perfsuite.tasks import tasks
from perfsuite.tasks.processor import task_processor

User = get_user_model()
GRAY, RGB = 0, 2  # PNG colour types


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def solid_png(width: int, height: int, colour: int = RGB, exif: bytes | None = None) -> bytes:
    """A black PNG of ``width`` x ``height``, compressed without ever being in memory."""
    row = bytes(1 + width * (3 if colour == RGB else 1))  # filter byte 0, then black
    packer = zlib.compressobj(9)
    idat = b"".join([*(packer.compress(row) for _ in range(height)), packer.flush()])
    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    extra = _chunk(b"eXIf", exif) if exif is not None else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + extra
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def rotated_exif() -> bytes:
    """EXIF saying "rotate 90 degrees clockwise to show" (orientation 6), as eXIf holds it."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return exif.tobytes()[len(b"Exif\x00\x00") :]


@contextmanager
def rss_peak() -> Iterator[Callable[[], int]]:
    """How far this process's resident memory rose above its start, sampled every ms."""
    process = psutil.Process()
    start = process.memory_info().rss
    peak = [start]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield lambda: peak[0] - start
    finally:
        done.set()
        sampler.join()


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The size of every image Pillow decodes from a file (``ImageFile.load``)."""
    decoded: list[tuple[int, int]] = []
    original = ImageFile.ImageFile.load

    def load(self: Any) -> Any:
        if self.tile:  # not yet decoded: this call decodes it
            decoded.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return decoded


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("side", [7_000, 12_000])
# Pillow only warns between 89.5 and 179 million pixels; in production a warning is
# printed, not raised (this test run raises warnings): let it pass as it would there
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_the_upload_form_refuses_an_image_over_the_budget(
    side: int, sent: list[Any], media: Path
) -> None:
    data = solid_png(side, side)
    assert len(data) < 500_000, "a few hundred KB on disk"
    client = Client()
    client.force_login(User.objects.create_user("ann"))
    page = client.post("/tasks/thumbnail/", {"image": SimpleUploadedFile("big.png", data)})
    assert page.status_code == 200
    text = page.content.decode()
    assert "25,000,000 pixels" in text, "the form says why"
    assert sent == [], "no task queued"
    assert not (media / "uploads").exists(), "nothing stored"


@pytest.mark.django_db(transaction=True)
def test_queue_task_refuses_an_image_over_the_budget_from_its_header(
    sent: list[Any], media: Path, loads: list[tuple[int, int]]
) -> None:
    (media / "uploads").mkdir()
    (media / "uploads" / "big.png").write_bytes(solid_png(6_000, 6_000, GRAY))
    with pytest.raises(ValueError, match=r"36,000,000 pixels.*TASK_IMAGE_MAX_PIXELS"):
        task_processor.queue_task("process_image", {"filename": "uploads/big.png"})
    (media / "uploads" / "edge.png").write_bytes(solid_png(100, 100, GRAY))
    (media / "uploads" / "over.png").write_bytes(solid_png(101, 100, GRAY))
    with override_settings(PERFSUITE={"STORE": "local", "TASK_IMAGE_MAX_PIXELS": 10_000}):
        task_processor.queue_task("process_image", {"filename": "uploads/edge.png"})
        with pytest.raises(ValueError, match="10,100 pixels"):
            task_processor.queue_task("process_image", {"filename": "uploads/over.png"})
    assert [args[1]["filename"] for args in sent] == ["uploads/edge.png"]
    assert loads == [], "headers only: nothing decoded"


def test_the_task_refuses_an_image_over_the_budget_without_decoding_it(
    media: Path, loads: list[tuple[int, int]]
) -> None:
    """9,000 x 9,000 grey pixels: 81 MB decoded (162 MB before the budget, which also
    made a full copy), under Pillow's own limit: only the budget stops it."""
    (media / "uploads").mkdir()
    (media / "uploads" / "big.png").write_bytes(solid_png(9_000, 9_000, GRAY))
    data = {"filename": "uploads/big.png", "width": 128, "height": 128}
    with rss_peak() as rose:
        failed = tasks.process_image.apply(kwargs=data)
        risen = rose()
    assert failed.failed() and isinstance(failed.result, ValueError), failed.result
    assert "81,000,000 pixels" in str(failed.result)
    assert loads == [], "never decoded"
    assert risen < 40 * 2**20, f"RSS rose {risen / 2**20:.0f} MB"
    assert not (media / "thumbnails").exists()


def test_a_thumbnail_within_the_budget_costs_one_decoded_image(
    media: Path, loads: list[tuple[int, int]]
) -> None:
    """20 million RGB pixels are 80 MB decoded (Pillow stores RGB in 4 bytes a pixel);
    the thumbnail is made from that one copy, then turned as its EXIF says."""
    (media / "uploads").mkdir()
    png = solid_png(5_000, 4_000, RGB, exif=rotated_exif())
    (media / "uploads" / "photo.png").write_bytes(png)
    data = {"filename": "uploads/photo.png", "width": 90, "height": 60}
    decoded = 5_000 * 4_000 * 4
    with rss_peak() as rose:
        result = tasks.process_image.apply(kwargs=data).get()
        risen = rose()
    assert result["size"] == [48, 60], "turned upright, then fitted to 90 x 60"
    with Image.open(media / result["thumbnail"]) as thumb:
        assert thumb.size == (48, 60)
    assert loads == [(5_000, 4_000)], "decoded once"
    assert risen < 1.5 * decoded, f"RSS rose {risen / 2**20:.0f} MB for {decoded / 2**20:.0f} MB"
