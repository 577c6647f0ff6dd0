"""Range requests (RFC 9110 §14) and If-Range (§13.1.5): exact slices, 206 and 416."""

from __future__ import annotations

from typing import Any

import brotli
import pytest
from django.test import Client

from tests.static_opt.conftest import Collected

pytestmark = pytest.mark.urls("tests.static_opt.urls")

CSS = "css/site.css"


def body_of(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def ranged(client: Client, url: str, value: str, **headers: str) -> Any:
    return client.get(url, HTTP_RANGE=value, **headers)


@pytest.mark.parametrize(
    ("spec", "first", "last"),
    [
        ("bytes=0-0", 0, 0),  # one byte
        ("bytes=10-19", 10, 19),
        ("bytes=19999-", 19999, 19999),  # the last byte, open-ended
        ("bytes=-1", 19999, 19999),  # the last byte, suffix
        ("bytes=-500", 19500, 19999),
        ("bytes=100-", 100, 19999),
        ("bytes=5-999999", 5, 19999),  # last-pos beyond the end is clamped
        ("bytes=-999999", 0, 19999),  # a suffix longer than the file: all of it
        ("BYTES = 3-4", 3, 4),  # the unit is case-insensitive; whitespace around it
        ("bytes=, 7-8 ,", 7, 8),  # empty list elements are allowed
    ],
)
def test_single_ranges_are_exact_slices(
    static_client: Client, collected: Collected, spec: str, first: int, last: int
) -> None:
    original = collected.original(CSS)
    assert len(original) == 20000
    response = ranged(static_client, collected.url(CSS), spec)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/20000"
    assert body_of(response) == original[first : last + 1]
    assert int(response["Content-Length"]) == last - first + 1
    assert "Content-Encoding" not in response


@pytest.mark.parametrize("spec", ["bytes=20000-", "bytes=20000-20010", "bytes=-0"])
def test_unsatisfiable_ranges_get_416(
    static_client: Client, collected: Collected, spec: str
) -> None:
    response = ranged(static_client, collected.url(CSS), spec)
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */20000"
    assert response.content == b""


@pytest.mark.parametrize(
    "spec",
    [
        "bytes=0-1,5-6",  # several ranges: the whole file instead
        "bytes=5-2",  # last before first: invalid, ignored
        "bytes=abc",
        "bytes=1-2-3",
        "items=0-5",
        "bytes",
        "bytes=-",
        "bytes=+1-2",
        "bytes=0x10-20",
        "bytes=１-２",  # non-ASCII digits
        "",
    ],
)
def test_ranges_that_are_not_honoured_give_the_whole_file(
    static_client: Client, collected: Collected, spec: str
) -> None:
    response = ranged(static_client, collected.url(CSS), spec)
    assert response.status_code == 200
    assert response.content == collected.original(CSS)


def test_huge_positions_do_not_break(static_client: Client, collected: Collected) -> None:
    huge = "9" * 5000
    assert ranged(static_client, collected.url(CSS), f"bytes={huge}-").status_code == 416
    whole = ranged(static_client, collected.url(CSS), f"bytes=-{huge}")
    assert whole.status_code == 206
    assert whole.content == collected.original(CSS)
    clamped = ranged(static_client, collected.url(CSS), f"bytes=3-{huge}")
    assert clamped.content == collected.original(CSS)[3:]


def test_head_ignores_range(static_client: Client, collected: Collected) -> None:
    response = static_client.head(collected.url(CSS), HTTP_RANGE="bytes=0-0")
    assert response.status_code == 200
    assert response["Content-Length"] == "20000"


def test_ranges_apply_to_the_negotiated_representation(
    static_client: Client, collected: Collected
) -> None:
    whole = static_client.get(collected.url(CSS), HTTP_ACCEPT_ENCODING="br").content
    response = ranged(static_client, collected.url(CSS), "bytes=0-99", HTTP_ACCEPT_ENCODING="br")
    assert response.status_code == 206
    assert response["Content-Encoding"] == "br"
    assert response["Content-Range"] == f"bytes 0-99/{len(whole)}"
    assert response.content == whole[:100]
    assert brotli.decompress(whole) == collected.original(CSS)


def test_if_range_with_the_current_etag_gives_206(
    static_client: Client, collected: Collected
) -> None:
    etag = static_client.get(collected.url(CSS))["ETag"]
    response = ranged(static_client, collected.url(CSS), "bytes=0-9", HTTP_IF_RANGE=etag)
    assert response.status_code == 206
    assert response.content == collected.original(CSS)[:10]


@pytest.mark.parametrize(
    "if_range",
    ['"stale-etag"', "W/{etag}", "Sun, 06 Nov 1994 08:49:37 GMT", "not a validator", ""],
)
def test_if_range_that_does_not_match_gives_the_whole_file(
    static_client: Client, collected: Collected, if_range: str
) -> None:
    etag = static_client.get(collected.url(CSS))["ETag"]
    response = ranged(
        static_client, collected.url(CSS), "bytes=0-9", HTTP_IF_RANGE=if_range.format(etag=etag)
    )
    assert response.status_code == 200
    assert response.content == collected.original(CSS)


def test_if_range_with_the_exact_last_modified_date_gives_206(
    static_client: Client, collected: Collected
) -> None:
    last_modified = static_client.get(collected.url(CSS))["Last-Modified"]
    response = ranged(static_client, collected.url(CSS), "bytes=5-5", HTTP_IF_RANGE=last_modified)
    assert response.status_code == 206
    assert response.content == collected.original(CSS)[5:6]


def test_ranges_of_a_streamed_file(static_client: Client, collected: Collected) -> None:
    """A file above the memory limit is streamed from disk; its slices are exact too."""
    name = "big/large.js"
    original = collected.original(name)
    for spec, first, last in (
        ("bytes=0-0", 0, 0),
        ("bytes=300000-300009", 300000, 300009),
        ("bytes=-7", len(original) - 7, len(original) - 1),
        ("bytes=65530-131080", 65530, 131080),  # across chunk boundaries
    ):
        response = ranged(static_client, collected.url(name), spec)
        assert response.status_code == 206
        assert response.streaming
        assert body_of(response) == original[first : last + 1], spec
