"""The storage backend through ``collectstatic``, and the index it leaves for start-up."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import threading
from pathlib import Path
from typing import Any

import brotli
import pytest
import zstandard
from django.test import Client

from perfsuite.static_opt.engine import build
from perfsuite.static_opt.engine import compress as codecs
from perfsuite.static_opt.middleware import StaticFilesMiddleware
from tests.static_opt.conftest import (
    PLAIN,
    PLAIN_MANIFEST,
    SOURCES,
    Collected,
    collect,
    edit,
    use_root,
    write_sources,
)

pytestmark = pytest.mark.urls("tests.static_opt.urls")

DECODE = {
    ".gz": gzip.decompress,
    ".br": brotli.decompress,
    ".zst": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
}


def test_variants_decode_to_the_original(collected: Collected) -> None:
    for name in ("css/site.css", "js/app.js", "data/data.json", "img/icon.svg"):
        for stored in (name, collected.paths[name]):
            for suffix, decode in DECODE.items():
                variant = collected.root / (stored + suffix)
                assert variant.exists(), variant
                assert decode(variant.read_bytes()) == SOURCES[name]
                assert variant.stat().st_size < 0.95 * len(SOURCES[name])


def test_only_compressible_files_above_the_threshold_get_variants(collected: Collected) -> None:
    for name in ("small.txt", "img/photo.png", "fonts/font.woff2", "img/pic.avif", "empty.css"):
        for suffix in DECODE:
            assert not (collected.root / (collected.paths[name] + suffix)).exists(), name


def test_variants_that_are_not_clearly_smaller_are_dropped(collected: Collected) -> None:
    """Random bytes in a text file compress to about their own size: no variant kept."""
    for suffix in DECODE:
        assert not (collected.root / (collected.paths["noise.txt"] + suffix)).exists()


def test_threshold_and_encodings_follow_the_settings(settings: Any, tmp_path: Path) -> None:
    src = write_sources(tmp_path / "src", {"a.css": b"a{color:red}" * 200})  # 2,400 bytes
    settings.PERFSUITE = {
        "STORE": "local",
        "STATIC_COMPRESS_MIN_SIZE": 4096,
        "STATIC_ENCODINGS": ["gzip"],
    }
    collect(tmp_path / "big-threshold", src)
    assert not list((tmp_path / "big-threshold").glob("a*.css.*"))
    settings.PERFSUITE = {"STORE": "local", "STATIC_ENCODINGS": ["gzip"]}
    collect(tmp_path / "gzip-only", src)
    suffixes = sorted(p.suffix for p in (tmp_path / "gzip-only").glob("a*.css.*"))
    assert suffixes == [".gz", ".gz"]


def _record_pools(monkeypatch: Any) -> list[int | None]:
    """The max_workers of every pool the builder makes."""
    sizes: list[int | None] = []
    real_pool = build.ThreadPoolExecutor

    class RecordingPool(real_pool):  # type: ignore[misc, valid-type]
        def __init__(self, max_workers: int | None = None, **kwargs: Any) -> None:
            sizes.append(max_workers)
            super().__init__(max_workers, **kwargs)

    monkeypatch.setattr(build, "ThreadPoolExecutor", RecordingPool)
    return sizes


def test_compression_runs_in_parallel(settings: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """While the first file's compression is held, a second one starts: it can only
    run on another worker. No deadline decides it: the first waits for the second
    however long a busy machine takes to schedule it (only a pool of one would hang,
    until the generous limit below), and only the first two calls meet."""
    sizes = _record_pools(monkeypatch)
    threads: set[int] = set()
    calls = itertools.count()
    second_started = threading.Event()
    real = codecs._COMPRESSORS["gzip"]

    def spy(data: bytes, level: int) -> bytes:
        threads.add(threading.get_ident())
        number = next(calls)
        if number == 0:
            assert second_started.wait(timeout=300), "no second file compressed meanwhile"
        elif number == 1:
            second_started.set()
        return real(data, level)

    monkeypatch.setitem(codecs._COMPRESSORS, "gzip", spy)
    settings.PERFSUITE = {"STORE": "local", "STATIC_COMPRESS_WORKERS": 4}
    files = {f"f{i}.css": (f".c{i} {{ color: red }}\n" * 200).encode() for i in range(8)}
    collect(tmp_path / "root", write_sources(tmp_path / "src", files))
    assert sizes == [4], "the configured number of workers"
    assert second_started.is_set()
    assert 2 <= len(threads) <= 4


def test_one_worker_compresses_on_one_thread(
    settings: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    sizes = _record_pools(monkeypatch)
    threads: set[int] = set()
    real = codecs._COMPRESSORS["gzip"]

    def spy(data: bytes, level: int) -> bytes:
        threads.add(threading.get_ident())
        return real(data, level)

    monkeypatch.setitem(codecs._COMPRESSORS, "gzip", spy)
    settings.PERFSUITE = {"STORE": "local", "STATIC_COMPRESS_WORKERS": 1}
    files = {f"f{i}.css": (f".c{i} {{ color: red }}\n" * 200).encode() for i in range(8)}
    collect(tmp_path / "root", write_sources(tmp_path / "src", files))
    assert sizes == [1]
    assert len(threads) == 1


def test_the_index_file_describes_every_manifest_name(collected: Collected) -> None:
    data = json.loads((collected.root / "staticfiles.perfsuite.json").read_text())
    names = set(collected.paths) | set(collected.paths.values())
    assert set(data["files"]) == names
    size, _mtime, etag, hashed, variants, _tried = data["files"][collected.paths["css/site.css"]]
    assert size == len(SOURCES["css/site.css"])
    assert hashed == 1
    assert set(variants) == {"zstd", "br", "gzip"}
    assert etag.startswith('"')


def test_start_up_reads_the_index_without_a_stat_per_file(
    settings: Any, collected: Collected, monkeypatch: Any
) -> None:
    use_root(settings, collected)
    calls: list[str] = []
    real_stat, real_scandir = os.stat, os.scandir

    def counting_stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(str(path))
        return real_stat(path, *args, **kwargs)

    def counting_scandir(path: Any = ".") -> Any:
        calls.append(f"scandir {path}")
        return real_scandir(path)

    monkeypatch.setattr(os, "stat", counting_stat)
    monkeypatch.setattr(os, "scandir", counting_scandir)
    middleware = StaticFilesMiddleware(lambda request: None)
    monkeypatch.undo()
    assert middleware.server.source == "index"
    served = [c for c in calls if str(collected.root) in c and "staticfiles" not in c]
    assert served == [], served


def test_a_plain_manifest_root_is_indexed_from_the_manifest(settings: Any, tmp_path: Path) -> None:
    src = write_sources(tmp_path / "src")
    root = tmp_path / "root"
    paths = collect(root, src, PLAIN_MANIFEST)
    target = Collected(root, src, paths)
    use_root(settings, target, PLAIN_MANIFEST)
    middleware = StaticFilesMiddleware(lambda request: None)
    assert middleware.server.source == "manifest"
    response = Client().get(target.url("css/site.css"), HTTP_ACCEPT_ENCODING="br")
    assert response.status_code == 200
    # No variants on disk: compressed once in memory on this first request.
    assert response["Content-Encoding"] == "br"
    assert brotli.decompress(response.content) == SOURCES["css/site.css"]


def test_a_root_without_manifest_is_scanned(settings: Any, tmp_path: Path) -> None:
    src = write_sources(tmp_path / "src")
    root = tmp_path / "root"
    collect(root, src, PLAIN)
    use_root(settings, Collected(root, src, {}), PLAIN)
    middleware = StaticFilesMiddleware(lambda request: None)
    assert middleware.server.source == "scan"
    response = Client().get("/static/js/app.js")
    assert response.content == SOURCES["js/app.js"]


def test_a_stale_index_is_ignored(settings: Any, fresh: Collected) -> None:
    """collectstatic run again with another storage: the old index no longer applies."""
    edit(fresh.src / "css" / "site.css", b"a { color: green }\n")
    paths = collect(fresh.root, fresh.src, PLAIN_MANIFEST)
    target = Collected(fresh.root, fresh.src, paths)
    use_root(settings, target, PLAIN_MANIFEST)
    assert StaticFilesMiddleware(lambda request: None).server.source == "manifest"
    response = Client().get(target.url("css/site.css"))
    assert response.content == b"a { color: green }\n"


def test_collectstatic_again_keeps_everything_consistent(settings: Any, fresh: Collected) -> None:
    paths = collect(fresh.root, fresh.src)
    assert paths == fresh.paths
    use_root(settings, fresh)
    response = Client().get(fresh.url("js/app.js"), HTTP_ACCEPT_ENCODING="zstd")
    decoded = zstandard.ZstdDecompressor().decompressobj().decompress(response.content)
    assert decoded == SOURCES["js/app.js"]


def test_unknown_names_render_with_their_plain_url(settings: Any, collected: Collected) -> None:
    from django.templatetags.static import static

    use_root(settings, collected)
    assert static("css/site.css") == "/static/" + collected.paths["css/site.css"]
    assert static("not/collected.css") == "/static/not/collected.css"
