"""Property-based: random paths and headers never give a 500 or a file outside the index."""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Iterator

import brotli
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.static_opt.conftest import SOURCES, Collected, Wsgi

pytestmark = pytest.mark.urls("tests.static_opt.urls")

PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
DECODE = {
    "identity": lambda data: data,
    "gzip": gzip.decompress,
    "br": brotli.decompress,
    "zstd": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
}
# PATH_INFO is latin-1 text (WSGI); these are the characters traversal attempts use.
PATH_CHARS = st.sampled_from([*"abcz./\\%2eEfF0:~ \x00\xe9\xff", "..", "%2e", "%2f", "css"])
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40)


@pytest.fixture(autouse=True)
def quiet_404s() -> Iterator[None]:
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@PROPERTY
@given(parts=st.lists(PATH_CHARS, max_size=12), real=st.booleans(), collected_name=st.data())
def test_random_paths_serve_only_indexed_files(
    wsgi: Wsgi, collected: Collected, parts: list[str], real: bool, collected_name: st.DataObject
) -> None:
    suffix = "".join(parts)
    if real:
        name = collected_name.draw(st.sampled_from(sorted(collected.paths.values())))
        suffix = name + suffix if collected_name.draw(st.booleans()) else suffix + name
    status, _headers, _body = wsgi.request("/static/" + suffix)
    indexed = set(collected.paths) | set(collected.paths.values())
    assert status in (200, 404), (suffix, status)
    if status == 200:
        assert suffix in indexed


RANGE = st.one_of(
    HEADER_TEXT,
    st.builds(
        lambda a, b, unit: f"{unit}={a}-{b}",
        st.one_of(st.just(""), st.integers(0, 25_000).map(str)),
        st.one_of(st.just(""), st.integers(0, 25_000).map(str)),
        st.sampled_from(["bytes", "BYTES", "items", " bytes"]),
    ),
)
ACCEPT = st.one_of(
    HEADER_TEXT,
    st.lists(
        st.tuples(
            st.sampled_from(["gzip", "br", "zstd", "identity", "*", "x-gzip", "deflate"]),
            st.one_of(st.none(), st.sampled_from(["0", "0.5", "1", "1.0", "0.001", "2", "x"])),
        ),
        max_size=5,
    ).map(lambda items: ", ".join(c if q is None else f"{c};q={q}" for c, q in items)),
)
VALIDATOR = st.one_of(
    HEADER_TEXT,
    st.sampled_from(['"abc"', "*", 'W/"abc"', "Sun, 06 Nov 1994 08:49:37 GMT", '"a", W/"b"']),
)


@PROPERTY
@given(
    name=st.sampled_from(["css/site.css", "js/app.js", "img/photo.png", "empty.css", "small.txt"]),
    accept=st.one_of(st.none(), ACCEPT),
    range_=st.one_of(st.none(), RANGE),
    if_range=st.one_of(st.none(), VALIDATOR),
    if_none_match=st.one_of(st.none(), VALIDATOR),
    if_modified_since=st.one_of(st.none(), VALIDATOR),
    if_match=st.one_of(st.none(), VALIDATOR),
)
def test_random_headers_give_consistent_responses(
    wsgi: Wsgi,
    collected: Collected,
    name: str,
    accept: str | None,
    range_: str | None,
    if_range: str | None,
    if_none_match: str | None,
    if_modified_since: str | None,
    if_match: str | None,
) -> None:
    headers = {
        key: value
        for key, value in {
            "HTTP_ACCEPT_ENCODING": accept,
            "HTTP_RANGE": range_,
            "HTTP_IF_RANGE": if_range,
            "HTTP_IF_NONE_MATCH": if_none_match,
            "HTTP_IF_MODIFIED_SINCE": if_modified_since,
            "HTTP_IF_MATCH": if_match,
        }.items()
        if value is not None
    }
    url = collected.url(name)
    status, got, body = wsgi.request(url, headers)
    assert status in (200, 206, 304, 406, 412, 416), status
    if status in (200, 206):
        assert int(got["Content-Length"]) == len(body)
        coding = got.get("Content-Encoding", "identity")
        full_headers = {"HTTP_ACCEPT_ENCODING": accept} if accept is not None else {}
        full_status, _full_got, full = wsgi.request(url, full_headers)
        assert full_status == 200
        assert DECODE[coding](full) == SOURCES[name]
        if status == 200:
            assert body == full
        else:
            match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", got["Content-Range"])
            assert match, got["Content-Range"]
            first, last, size = map(int, match.groups())
            assert size == len(full)
            assert body == full[first : last + 1]
    elif status == 416:
        assert re.fullmatch(r"bytes \*/\d+", got["Content-Range"])
    else:
        assert body == b""
