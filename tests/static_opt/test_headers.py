"""Response headers, one test per rule, with RFC 9110 as the reference."""

from __future__ import annotations

import os
import re
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.static_opt.conftest import CHROME, Collected, copy_root, use_root

pytestmark = pytest.mark.urls("tests.static_opt.urls")

CSS = "css/site.css"
BR = {"HTTP_ACCEPT_ENCODING": "br"}


def get(client: Client, url: str, **headers: str) -> Any:
    return client.get(url, **headers)


# -- ETag (RFC 9110 §8.8.3) -------------------------------------------------------------
def test_etag_is_a_strong_quoted_validator(static_client: Client, collected: Collected) -> None:
    response = get(static_client, collected.url(CSS))
    assert response.status_code == 200
    assert re.fullmatch(r'"[0-9a-f]{16,}"', response["ETag"])


def test_each_encoded_variant_has_its_own_etag(static_client: Client, collected: Collected) -> None:
    etags = {}
    for coding in ("identity", "gzip", "br", "zstd"):
        response = get(static_client, collected.url(CSS), HTTP_ACCEPT_ENCODING=coding)
        assert response.get("Content-Encoding", "identity") == coding
        etags[coding] = response["ETag"]
    assert len(set(etags.values())) == 4, etags


def test_etag_comes_from_content_so_replicas_agree(
    settings: Any, collected: Collected, tmp_path: Path
) -> None:
    """A copy with other mtimes and no index file (metadata read lazily) agrees."""
    replica = copy_root(collected, tmp_path / "replica")
    (replica.root / "staticfiles.perfsuite.json").unlink()
    past = time.time() - 86400 * 30
    for dirpath, _dirs, files in os.walk(replica.root):
        for name in files:
            os.utime(os.path.join(dirpath, name), (past, past))
    use_root(settings, collected)
    first = {c: get(Client(), collected.url(CSS), HTTP_ACCEPT_ENCODING=c) for c in ("br", "gzip")}
    use_root(settings, replica)
    second = {c: get(Client(), replica.url(CSS), HTTP_ACCEPT_ENCODING=c) for c in ("br", "gzip")}
    for coding in ("br", "gzip"):
        assert first[coding]["ETag"] == second[coding]["ETag"]
        assert first[coding]["Last-Modified"] != second[coding]["Last-Modified"]


def test_etag_changes_with_the_content(settings: Any, fresh: Collected) -> None:
    use_root(settings, fresh)
    before = get(Client(), fresh.url("small.txt", hashed=False))["ETag"]
    from tests.static_opt.conftest import collect, edit

    edit(fresh.src / "small.txt", b"another content\n")

    collect(fresh.root, fresh.src)
    after = get(Client(), fresh.url("small.txt", hashed=False))["ETag"]
    assert before != after


# -- If-None-Match (RFC 9110 §13.1.2) -----------------------------------------------------
@pytest.mark.parametrize(
    "header",
    [
        "{etag}",
        '"other", {etag}',
        '"a","b" ,  {etag} ,"c"',
        "W/{etag}",
        '"x", W/{etag}',
        "*",
    ],
)
def test_if_none_match_lists_star_and_weak_comparison_give_304(
    static_client: Client, collected: Collected, header: str
) -> None:
    etag = get(static_client, collected.url(CSS), **BR)["ETag"]
    response = get(
        static_client, collected.url(CSS), HTTP_IF_NONE_MATCH=header.format(etag=etag), **BR
    )
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


@pytest.mark.parametrize("header", ['"nope"', 'W/"nope", "other"', "garbage", '"unterminated'])
def test_if_none_match_without_a_match_gives_200(
    static_client: Client, collected: Collected, header: str
) -> None:
    response = get(static_client, collected.url(CSS), HTTP_IF_NONE_MATCH=header, **BR)
    assert response.status_code == 200
    assert len(response.content) == int(response["Content-Length"])


def test_if_none_match_is_compared_with_the_selected_variant(
    static_client: Client, collected: Collected
) -> None:
    """A client that got brotli and now only accepts gzip gets the gzip body, not a 304."""
    br_etag = get(static_client, collected.url(CSS), **BR)["ETag"]
    response = get(
        static_client,
        collected.url(CSS),
        HTTP_ACCEPT_ENCODING="gzip",
        HTTP_IF_NONE_MATCH=br_etag,
    )
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"


def test_304_carries_the_cache_fields_and_no_body(
    static_client: Client, collected: Collected
) -> None:
    """RFC 9110 §15.4.5: ETag, Cache-Control and Vary as a 200 would; no content metadata."""
    first = get(static_client, collected.url(CSS), **BR)
    response = get(static_client, collected.url(CSS), HTTP_IF_NONE_MATCH=first["ETag"], **BR)
    assert response.status_code == 304
    assert response["Cache-Control"] == first["Cache-Control"]
    assert response["Vary"] == "Accept-Encoding"
    for absent in ("Content-Encoding", "Content-Type", "Content-Range"):
        assert absent not in response


# -- Precondition order (RFC 9110 §13.2.2) ---------------------------------------------------
def test_if_match_failing_gives_412_before_if_none_match(
    static_client: Client, collected: Collected
) -> None:
    etag = get(static_client, collected.url(CSS), **BR)["ETag"]
    response = get(
        static_client, collected.url(CSS), HTTP_IF_MATCH='"nope"', HTTP_IF_NONE_MATCH=etag, **BR
    )
    assert response.status_code == 412


def test_if_match_uses_strong_comparison(static_client: Client, collected: Collected) -> None:
    etag = get(static_client, collected.url(CSS), **BR)["ETag"]
    assert get(static_client, collected.url(CSS), HTTP_IF_MATCH=etag, **BR).status_code == 200
    assert get(static_client, collected.url(CSS), HTTP_IF_MATCH="*", **BR).status_code == 200
    weak = get(static_client, collected.url(CSS), HTTP_IF_MATCH=f"W/{etag}", **BR)
    assert weak.status_code == 412


def test_if_unmodified_since_in_the_past_gives_412(
    static_client: Client, collected: Collected
) -> None:
    response = get(
        static_client,
        collected.url(CSS),
        HTTP_IF_UNMODIFIED_SINCE="Sun, 06 Nov 1994 08:49:37 GMT",
    )
    assert response.status_code == 412


def test_if_unmodified_since_is_ignored_with_if_match(
    static_client: Client, collected: Collected
) -> None:
    response = get(
        static_client,
        collected.url(CSS),
        HTTP_IF_MATCH="*",
        HTTP_IF_UNMODIFIED_SINCE="Sun, 06 Nov 1994 08:49:37 GMT",
    )
    assert response.status_code == 200


def test_if_modified_since_is_ignored_when_if_none_match_is_present(
    static_client: Client, collected: Collected
) -> None:
    future = formatdate(time.time() + 86400, usegmt=True)
    response = get(
        static_client,
        collected.url(CSS),
        HTTP_IF_NONE_MATCH='"something-else"',
        HTTP_IF_MODIFIED_SINCE=future,
    )
    assert response.status_code == 200


# -- Last-Modified / If-Modified-Since (RFC 9110 §8.8.2, §13.1.3) ----------------------------
def test_last_modified_and_if_modified_since(static_client: Client, collected: Collected) -> None:
    first = get(static_client, collected.url(CSS))
    last_modified = first["Last-Modified"]
    assert last_modified.endswith(" GMT")
    same = get(static_client, collected.url(CSS), HTTP_IF_MODIFIED_SINCE=last_modified)
    assert same.status_code == 304
    earlier = get(
        static_client,
        collected.url(CSS),
        HTTP_IF_MODIFIED_SINCE="Sun, 06 Nov 1994 08:49:37 GMT",
    )
    assert earlier.status_code == 200


@pytest.mark.parametrize(
    "value",
    ["Sunday, 06-Nov-{yy} 08:49:37 GMT", "Sun Nov  6 08:49:37 {yyyy}"],
    ids=["rfc850", "asctime"],
)
def test_obsolete_date_formats_are_understood(
    static_client: Client, collected: Collected, value: str
) -> None:
    future = time.gmtime(time.time() + 86400 * 400)
    text = value.format(yy=f"{future.tm_year % 100:02d}", yyyy=future.tm_year)
    # The weekday does not have to be right for the grammar; the date is in the future.
    response = get(static_client, collected.url(CSS), HTTP_IF_MODIFIED_SINCE=text)
    assert response.status_code == 304


@pytest.mark.parametrize(
    "value", ["yesterday", "Sun, 32 Nov 1994 08:49:37 GMT", "", "Sun, 06 Nov 1994 25:00:00 GMT"]
)
def test_malformed_if_modified_since_is_ignored(
    static_client: Client, collected: Collected, value: str
) -> None:
    response = get(static_client, collected.url(CSS), HTTP_IF_MODIFIED_SINCE=value)
    assert response.status_code == 200


# -- Cache-Control -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["assets/index-4f3c2a1b.js", "dist/main.7f3a2c1e9b.chunk.js"],
    ids=["vite", "webpack"],
)
def test_bundler_hashes_are_immutable(
    static_client: Client, collected: Collected, name: str
) -> None:
    response = get(static_client, collected.url(name, hashed=False))
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"


def test_manifest_names_are_immutable_and_originals_are_not(
    static_client: Client, collected: Collected
) -> None:
    hashed = get(static_client, collected.url(CSS))
    assert hashed["Cache-Control"] == "public, max-age=31536000, immutable"
    original = get(static_client, collected.url(CSS, hashed=False))
    assert original["Cache-Control"] == "public, max-age=60"
    dated = get(static_client, collected.url("app.20240101.js", hashed=False))
    assert dated["Cache-Control"] == "public, max-age=60"


def test_short_max_age_is_configurable(settings: Any, collected: Collected) -> None:
    use_root(settings, collected)
    settings.PERFSUITE = {"STORE": "local", "STATIC_MAX_AGE": 300}
    response = get(Client(), collected.url(CSS, hashed=False))
    assert response["Cache-Control"] == "public, max-age=300"


# -- Content-Type ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("css/site.css", "text/css; charset=utf-8"),
        ("js/app.js", "text/javascript; charset=utf-8"),
        ("js/module.mjs", "text/javascript; charset=utf-8"),
        ("small.txt", "text/plain; charset=utf-8"),
        ("fonts/font.woff2", "font/woff2"),
        ("img/pic.avif", "image/avif"),
        ("img/pic.webp", "image/webp"),
        ("img/photo.png", "image/png"),
        ("wasm/mod.wasm", "application/wasm"),
        ("data/data.json", "application/json"),
        ("img/icon.svg", "image/svg+xml"),
    ],
)
def test_content_type(
    static_client: Client, collected: Collected, name: str, expected: str
) -> None:
    assert get(static_client, collected.url(name))["Content-Type"] == expected


# -- Content-Length, Vary, HEAD, methods ---------------------------------------------------
@pytest.mark.parametrize("coding", ["identity", "gzip", "br", "zstd"])
def test_content_length_matches_the_body(
    static_client: Client, collected: Collected, coding: str
) -> None:
    for name in ("css/site.css", "js/app.js", "img/photo.png", "empty.css"):
        response = get(static_client, collected.url(name), HTTP_ACCEPT_ENCODING=coding)
        assert int(response["Content-Length"]) == len(response.content), name


def test_vary_accept_encoding_only_where_codings_apply(
    static_client: Client, collected: Collected
) -> None:
    assert get(static_client, collected.url(CSS))["Vary"] == "Accept-Encoding"
    assert get(static_client, collected.url(CSS), **BR)["Vary"] == "Accept-Encoding"
    assert "Vary" not in get(static_client, collected.url("img/photo.png"))


def test_head_has_the_get_headers_and_no_body(static_client: Client, collected: Collected) -> None:
    got = get(static_client, collected.url(CSS), HTTP_ACCEPT_ENCODING=CHROME)
    head = static_client.head(collected.url(CSS), HTTP_ACCEPT_ENCODING=CHROME)
    assert head.status_code == 200
    assert head.content == b""
    for field in ("Content-Type", "Content-Length", "Content-Encoding", "ETag", "Cache-Control"):
        assert head[field] == got[field], field


def test_other_methods_get_405_with_allow(static_client: Client, collected: Collected) -> None:
    response = static_client.post(collected.url(CSS))
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_files_outside_the_static_prefix_are_left_alone(static_client: Client) -> None:
    response = static_client.get("/page/")
    assert response.status_code == 200
    assert response.content == b"not a static file"


def test_served_files_are_timed_under_one_static_route(settings, collected) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    from perfsuite.core import metrics
    from tests.static_opt.conftest import use_root

    use_root(settings, collected)
    settings.MIDDLEWARE = [
        "perfsuite.perf_monitor.middleware.PerformanceMiddleware",
        *settings.MIDDLEWARE,
    ]
    client = Client()
    names = list(collected.paths)[:3]
    for name in names:
        assert client.get(collected.url(name)).status_code == 200
    snap = metrics.registry.snapshot("all")
    assert snap.histogram("perfsuite_http_request_seconds", route="<static>").count == len(names)
    assert snap.histogram("perfsuite_http_request_seconds", route="<unmatched>").count == 0
