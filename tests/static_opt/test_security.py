"""Only indexed files are served: traversal, aliases and symlinks get 404, never a 500."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import pytest
from django.test import Client

from tests.static_opt.conftest import (
    PLAIN,
    Collected,
    Wsgi,
    collect,
    use_root,
    write_sources,
)

pytestmark = pytest.mark.urls("tests.static_opt.urls")

SECRET = b"TOP-SECRET-CONTENT"


class Site:
    """A collected root with secrets beside it, a sibling sharing its prefix, symlinks."""

    def __init__(self, base: Path) -> None:
        self.base = base
        src = write_sources(base / "src")
        self.root = base / "static"
        self.target = Collected(self.root, src, collect(self.root, src))
        (base / "secret.txt").write_bytes(SECRET)
        sibling = base / "static-secret"
        sibling.mkdir()
        (sibling / "x.css").write_bytes(SECRET)
        self.css = self.target.paths["css/site.css"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return Site(tmp_path_factory.mktemp("secure"))


def corpus(css: str) -> list[str]:
    """PATH_INFO values as a server hands them over (already percent-decoded) or not."""
    return [
        "/static/../secret.txt",
        "/static/../../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/css/..%2f..%2fsecret.txt",
        "/static/css/../../secret.txt",
        "/static/..\\secret.txt",
        "/static/css\\..\\..\\secret.txt",
        f"/static/css\\{css.split('/')[-1]}",  # a backslash alias of a real file
        f"/static/{css}\x00.png",
        f"/static/{css}%00",
        "/static/\x00",
        "/static//etc/passwd",
        "/static/%2fetc/passwd",
        "/static///etc/passwd",
        "/static/C:\\Windows\\win.ini",
        f"/static/./{css}",
        f"/static/{css.replace('/', '/./')}",
        f"/static/{css.replace('/', '//')}",
        f"/static/css/../{css}",
        f"/static/{css}/",
        f"/static/{css}/.",
        "/static/../static-secret/x.css",
        "/static-secret/x.css",
        "/static/staticfiles.json",
        "/static/staticfiles.perfsuite.json",
        f"/static/{css}.br",
        f"/static/{css}.gz",
        f"/static/{css}.zst",
        "/static/css",
        "/static/css/",
        "/static/",
        "/static",
        "/static/%ff%fe",
        "/static/\xff\xfe",
        "/static/\xc3\xa9/../../secret.txt",
    ]


def assert_not_served(status: int, body: bytes, path: str) -> None:
    assert status == 404, (path, status)
    assert SECRET not in body, path


@pytest.mark.parametrize("debug", [False, True], ids=["index", "debug-finders"])
def test_traversal_corpus_is_404(settings: Any, site: Site, debug: bool) -> None:
    use_root(settings, site.target)
    settings.DEBUG = debug
    wsgi = Wsgi()
    for path in corpus(site.css):
        status, _headers, body = wsgi.request(path)
        assert_not_served(status, body, path)
    # The real file is served, so the corpus was not 404 for want of a working server.
    status, _headers, body = wsgi.request("/static/" + site.css)
    assert status == 200
    assert body == site.target.original("css/site.css")


def test_percent_encoded_traversal_through_the_client(settings: Any, site: Site) -> None:
    """The test client decodes the URL as a server would; still nothing outside."""
    use_root(settings, site.target)
    client = Client()
    for url in (
        "/static/%2e%2e/secret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/css/%2e%2e/%2e%2e/secret.txt",
        "/static/..%5csecret.txt",
        "/static/%2e%2e/static-secret/x.css",
        f"/static/{site.css}%00",
    ):
        response = client.get(url)
        assert response.status_code in (400, 404), url
        assert SECRET not in response.content


@pytest.fixture
def linked(tmp_path: Path) -> Iterator[Collected]:
    src = write_sources(tmp_path / "src")
    root = tmp_path / "static"
    target = Collected(root, src, collect(root, src))
    (tmp_path / "secret.txt").write_bytes(SECRET)
    yield target
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_an_indexed_file_replaced_by_an_outside_symlink_is_404(
    settings: Any, linked: Collected
) -> None:
    hashed = linked.root / linked.paths["small.txt"]
    hashed.unlink()
    os.symlink(linked.root.parent / "secret.txt", hashed)
    use_root(settings, linked)
    status, _headers, body = Wsgi().request("/static/" + linked.paths["small.txt"])
    assert_not_served(status, body, "symlink")


def test_a_variant_symlinked_outside_is_not_served(settings: Any, linked: Collected) -> None:
    hashed = linked.root / (linked.paths["css/site.css"] + ".br")
    hashed.unlink()
    os.symlink(linked.root.parent / "secret.txt", hashed)
    (linked.root / "staticfiles.perfsuite.json").unlink()  # metadata read from disk
    use_root(settings, linked)
    status, headers, body = Wsgi().request(
        "/static/" + linked.paths["css/site.css"], {"HTTP_ACCEPT_ENCODING": "br"}
    )
    assert status == 200
    assert SECRET not in body
    # The outside variant was refused; brotli was made from the real file instead.
    assert headers["Content-Encoding"] == "br"
    assert brotli.decompress(body) == linked.original("css/site.css")


def test_symlinks_in_a_scanned_root(settings: Any, tmp_path: Path) -> None:
    """Without a manifest the root is scanned: outside links 404, inside links serve."""
    src = write_sources(tmp_path / "src", {"a.css": b"a { color: red }\n"})
    root = tmp_path / "static"
    collect(root, src, PLAIN)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.css").write_bytes(SECRET)
    os.symlink(tmp_path / "secret.txt", root / "evil.css")
    os.symlink(root / "a.css", root / "alias.css")
    os.symlink(outside, root / "linked-dir")
    use_root(settings, Collected(root, src, {}), PLAIN)
    wsgi = Wsgi()
    for path in ("/static/evil.css", "/static/linked-dir/x.css"):
        status, _headers, body = wsgi.request(path)
        assert_not_served(status, body, path)
    status, _headers, body = wsgi.request("/static/alias.css")
    assert (status, body) == (200, b"a { color: red }\n")


def test_debug_finders_refuse_symlinks_leaving_their_directory(
    settings: Any, linked: Collected
) -> None:
    os.symlink(linked.root.parent / "secret.txt", linked.src / "leak.css")
    use_root(settings, linked)
    settings.DEBUG = True
    status, _headers, body = Wsgi().request("/static/leak.css")
    assert_not_served(status, body, "finder symlink")


def test_files_added_to_the_root_after_start_up_are_not_served(
    settings: Any, linked: Collected
) -> None:
    use_root(settings, linked)
    wsgi = Wsgi()
    assert wsgi.request("/static/small.txt")[0] == 200
    (linked.root / "dropped.css").write_bytes(SECRET)
    status, _headers, body = wsgi.request("/static/dropped.css")
    assert_not_served(status, body, "dropped")
