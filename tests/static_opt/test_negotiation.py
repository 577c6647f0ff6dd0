"""Accept-Encoding negotiation (RFC 9110 §12.5.3) and decoding every variant."""

from __future__ import annotations

import gzip
from typing import Any

import brotli
import pytest
import zstandard
from django.test import Client

from tests.static_opt.conftest import CHROME, Collected

pytestmark = pytest.mark.urls("tests.static_opt.urls")

CSS = "css/site.css"
DECODERS = {
    "gzip": gzip.decompress,
    "br": brotli.decompress,
    "zstd": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
    "identity": lambda data: data,
}


def fetch(client: Client, url: str, accept: str | None) -> Any:
    headers = {} if accept is None else {"HTTP_ACCEPT_ENCODING": accept}
    return client.get(url, **headers)


def coding_of(response: Any) -> str:
    return response.get("Content-Encoding", "identity")


@pytest.mark.parametrize("coding", ["zstd", "br", "gzip", "identity"])
@pytest.mark.parametrize("name", ["css/site.css", "js/app.js", "data/data.json", "img/icon.svg"])
def test_each_encoding_decodes_back_to_the_original(
    static_client: Client, collected: Collected, coding: str, name: str
) -> None:
    response = fetch(static_client, collected.url(name, hashed=False), coding)
    assert response.status_code == 200
    assert coding_of(response) == coding
    assert DECODERS[coding](response.content) == collected.original(name)


def test_the_smallest_acceptable_variant_wins(static_client: Client, collected: Collected) -> None:
    sizes = {}
    for coding in ("zstd", "br", "gzip"):
        sizes[coding] = len(fetch(static_client, collected.url(CSS), coding).content)
    chosen = fetch(static_client, collected.url(CSS), CHROME)
    assert coding_of(chosen) == min(sizes, key=lambda c: sizes[c])
    assert len(chosen.content) == min(sizes.values())


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "identity"),  # no header: only what every client decodes
        ("", "identity"),  # an empty value wants no coding
        ("gzip;q=0", "identity"),  # q=0 refuses gzip
        ("gzip;q=0, deflate", "identity"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),  # the higher q wins over the smaller size
        ("gzip;q=0.2, zstd;q=0.9", "zstd"),
        ("GZIP", "gzip"),  # codings are case-insensitive
        ("x-gzip", "gzip"),  # an alias of gzip (RFC 9110 §8.4.1.3)
        ("identity;q=0, gzip", "gzip"),
        ("br;q=0.5", "br"),  # identity not listed ranks below any listed coding
        ("identity, gzip;q=0.5", "identity"),
        ("deflate, compress", "identity"),  # nothing we have: identity stays acceptable
        ("gzip;q=abc, br", "br"),  # a malformed member is ignored
        ("gzip;q=1.5", "identity"),  # q above 1 is malformed
        ("gzip; q=0.5 , br ; q=0.4", "gzip"),  # optional whitespace
    ],
)
def test_q_values(
    static_client: Client, collected: Collected, accept: str | None, expected: str
) -> None:
    response = fetch(static_client, collected.url(CSS), accept)
    assert response.status_code == 200
    assert coding_of(response) == expected


def test_star_stands_for_every_coding_not_listed(
    static_client: Client, collected: Collected
) -> None:
    smallest = coding_of(fetch(static_client, collected.url(CSS), CHROME))
    assert coding_of(fetch(static_client, collected.url(CSS), "*")) == smallest
    # "*" after an explicit refusal keeps the refusal.
    assert coding_of(fetch(static_client, collected.url(CSS), "gzip;q=0, *")) != "gzip"
    assert coding_of(fetch(static_client, collected.url(CSS), "*;q=0, gzip")) == "gzip"


def test_star_q0_refuses_identity_too(static_client: Client, collected: Collected) -> None:
    """``*;q=0`` with no entry for identity leaves nothing acceptable: 406."""
    response = fetch(static_client, collected.url("img/photo.png"), "*;q=0")
    assert response.status_code == 406
    # With a compressed variant acceptable, that variant is sent.
    assert coding_of(fetch(static_client, collected.url(CSS), "*;q=0, br")) == "br"


def test_identity_q0_without_an_acceptable_coding_is_406(
    static_client: Client, collected: Collected
) -> None:
    response = fetch(static_client, collected.url("img/photo.png"), "identity;q=0, gzip")
    assert response.status_code == 406
    assert response["Vary"] == "Accept-Encoding"
    # identity;q=0 with "*" still allows the codings we have.
    assert fetch(static_client, collected.url(CSS), "identity;q=0, *").status_code == 200


def test_incompressible_files_are_sent_as_is(static_client: Client, collected: Collected) -> None:
    for name in ("img/photo.png", "fonts/font.woff2", "noise.txt", "small.txt"):
        response = fetch(static_client, collected.url(name), CHROME)
        assert coding_of(response) == "identity", name
        assert response.content == collected.original(name)
