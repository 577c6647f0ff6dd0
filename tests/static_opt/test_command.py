"""``manage.py compress_static``: variants, the index file, the progress bar, mistakes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import brotli
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from perfsuite.static_opt.middleware import StaticFilesMiddleware
from tests.static_opt.conftest import (
    PLAIN,
    PLAIN_MANIFEST,
    SOURCES,
    Collected,
    collect,
    use_root,
    write_sources,
)

pytestmark = pytest.mark.urls("tests.static_opt.urls")


def run(*args: str, **options: Any) -> str:
    out = io.StringIO()
    call_command("compress_static", *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


@pytest.fixture
def plain_root(settings: Any, tmp_path: Path) -> Collected:
    src = write_sources(tmp_path / "src")
    root = tmp_path / "root"
    target = Collected(root, src, collect(root, src, PLAIN_MANIFEST))
    use_root(settings, target, PLAIN_MANIFEST)
    return target


def test_compresses_a_plain_collected_root_and_writes_the_index(plain_root: Collected) -> None:
    hashed = plain_root.paths["css/site.css"]
    assert not (plain_root.root / (hashed + ".br")).exists()
    output = run()
    for suffix in (".br", ".gz", ".zst"):
        assert (plain_root.root / (hashed + suffix)).exists()
    assert (
        brotli.decompress((plain_root.root / (hashed + ".br")).read_bytes())
        == (SOURCES["css/site.css"])
    )
    index = json.loads((plain_root.root / "staticfiles.perfsuite.json").read_text())
    assert hashed in index["files"]
    assert "files indexed" in output
    assert StaticFilesMiddleware(lambda request: None).server.source == "index"
    response = Client().get(plain_root.url("css/site.css"), HTTP_ACCEPT_ENCODING="br")
    assert response["Content-Encoding"] == "br"


def test_progress_bar_goes_to_stdout(plain_root: Collected) -> None:
    output = run()
    lines = [line for line in output.splitlines() if line.startswith("[")]
    assert lines[0].startswith("[") and "0%" in lines[0]
    assert lines[-1].startswith("[" + "#" * 30 + "]")
    assert "100%" in lines[-1]
    total = len(set(plain_root.paths) | set(plain_root.paths.values()))
    assert lines[-1].endswith(f"{total}/{total}")
    percents = [int(line.split("]")[1].split("%")[0]) for line in lines]
    assert percents == sorted(percents)


def test_only_the_requested_encodings(plain_root: Collected) -> None:
    run("--encodings", "gzip", "--min-size", "100")
    hashed = plain_root.paths["css/site.css"]
    assert (plain_root.root / (hashed + ".gz")).exists()
    assert not (plain_root.root / (hashed + ".br")).exists()
    # 100 bytes threshold: small.txt (43 bytes) is still too small.
    assert not (plain_root.root / (plain_root.paths["small.txt"] + ".gz")).exists()


def test_reuse_keeps_newer_variants(plain_root: Collected) -> None:
    run()
    output = run("--reuse")
    assert "0 variants written" in output
    assert "reused" in output


def test_a_root_without_manifest_is_scanned(settings: Any, tmp_path: Path) -> None:
    src = write_sources(tmp_path / "src")
    root = tmp_path / "root"
    collect(root, src, PLAIN)
    use_root(settings, Collected(root, src, {}), PLAIN)
    run("--root", str(root))
    assert (root / "css" / "site.css.zst").exists()
    assert not (root / "css" / "site.css.br.br").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--root", "/nonexistent/static"), "is not a directory"),
        (("--encodings", "lzma"), "unknown coding"),
        (("--workers", "0"), "at least 1"),
    ],
)
def test_user_mistakes_are_command_errors(
    plain_root: Collected, args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_without_static_root(settings: Any) -> None:
    settings.STATIC_ROOT = None
    with pytest.raises(CommandError, match="STATIC_ROOT is not set"):
        run()
