"""DEBUG: files come from the finders, new and edited files are picked up without restart."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.static_opt.conftest import FINDERS, MIDDLEWARE, storages, stylesheet, write_sources

pytestmark = pytest.mark.urls("tests.static_opt.urls")


@pytest.fixture
def debug_client(settings: Any, tmp_path: Path) -> tuple[Client, Path]:
    src = write_sources(tmp_path / "src", {"css/dev.css": stylesheet(5_000).encode()})
    settings.DEBUG = True
    settings.STATIC_ROOT = str(tmp_path / "not-collected")
    settings.STATICFILES_DIRS = [str(src)]
    settings.STATICFILES_FINDERS = FINDERS
    settings.STORAGES = storages(
        "perfsuite.static_opt.storage.CompressedManifestStaticFilesStorage"
    )
    settings.MIDDLEWARE = MIDDLEWARE
    return Client(), src


def test_files_are_served_from_the_finders(debug_client: tuple[Client, Path]) -> None:
    client, src = debug_client
    response = client.get("/static/css/dev.css")
    assert response.status_code == 200
    assert response.content == (src / "css" / "dev.css").read_bytes()
    # Not a hashed name, and DEBUG: the browser revalidates every time.
    assert response["Cache-Control"] == "no-cache"


def test_a_new_file_is_picked_up_without_restart(debug_client: tuple[Client, Path]) -> None:
    client, src = debug_client
    assert client.get("/static/css/new.css").status_code == 404
    (src / "css" / "new.css").write_text("body { margin: 0 }\n")
    response = client.get("/static/css/new.css")
    assert response.status_code == 200
    assert response.content == b"body { margin: 0 }\n"


def test_an_edited_file_is_re_read_with_a_new_etag(debug_client: tuple[Client, Path]) -> None:
    client, src = debug_client
    path = src / "css" / "dev.css"
    first = client.get("/static/css/dev.css")
    path.write_text("a { color: blue }\n")
    later = time.time() + 5
    os.utime(path, (later, later))
    second = client.get("/static/css/dev.css", HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert second.content == b"a { color: blue }\n"
    assert second["ETag"] != first["ETag"]


def test_a_deleted_file_is_404(debug_client: tuple[Client, Path]) -> None:
    client, src = debug_client
    assert client.get("/static/css/dev.css").status_code == 200
    (src / "css" / "dev.css").unlink()
    assert client.get("/static/css/dev.css").status_code == 404


def test_finder_files_are_compressed_once_in_memory(debug_client: tuple[Client, Path]) -> None:
    client, src = debug_client
    original = (src / "css" / "dev.css").read_bytes()
    first = client.get("/static/css/dev.css", HTTP_ACCEPT_ENCODING="gzip")
    assert first["Content-Encoding"] == "gzip"
    assert gzip.decompress(first.content) == original
    second = client.get("/static/css/dev.css", HTTP_ACCEPT_ENCODING="gzip")
    assert second["ETag"] == first["ETag"]
    assert second.content == first.content


def test_without_debug_new_source_files_are_not_served(
    debug_client: tuple[Client, Path], settings: Any
) -> None:
    _client, src = debug_client
    settings.DEBUG = False
    os.makedirs(settings.STATIC_ROOT)
    client = Client()
    (src / "css" / "late.css").write_text("p { color: red }\n")
    assert client.get("/static/css/late.css").status_code == 404
