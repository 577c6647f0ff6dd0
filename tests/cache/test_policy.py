"""Header parsing rules of the cache, table-driven (no I/O)."""

from __future__ import annotations

import pytest

from perfsuite.cache import policy

DEFAULT, MAXIMUM = 300, 7 * 86400


@pytest.mark.parametrize(
    ("header", "ttl"),
    [
        ("", DEFAULT),
        ("public", DEFAULT),
        ("max-age=60", 60),
        ("MAX-AGE=60", 60),
        ('max-age="60"', 60),
        ("max-age=abc", DEFAULT),
        ("max-age=", DEFAULT),
        ("max-age=-1", 0),
        ("max-age=60, max-age=10", 10),
        ("max-age=99999999999999999999999", MAXIMUM),
        ("max-age=30, s-maxage=120", 120),
        ("s-maxage=120, max-age=30", 120),
        ("s-maxage=abc, max-age=30", 30),
        ("s-maxage=0, max-age=30", 0),
        (";;;,,,===", DEFAULT),
        ("max-age=1.5", DEFAULT),
        ("max-age=\x00", DEFAULT),
    ],
)
def test_ttl_corpus(header: str, ttl: int) -> None:
    assert policy.ttl_for(policy.cache_control(header), DEFAULT, MAXIMUM) == ttl


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "text/html"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
        ("*/*", "text/html"),
        ("application/json", "application/json"),
        ("application/json, text/html;q=0.5", "application/json"),
        ("text/*", "text/html"),
        ("text/html;q=0, application/json;q=0.1", "application/json"),
        ("image/png", "none"),
        ("text/html;q=abc", "none"),
        (",,,;;;", "none"),
    ],
)
def test_accept_is_normalised_to_a_representation(accept: str | None, chosen: str) -> None:
    assert policy.normalized_accept(accept) == chosen


def test_query_is_sorted_and_tracking_dropped() -> None:
    tracking = ("utm_*", "fbclid", "gclid")
    assert policy.normalized_query("b=2&utm_source=x&a=1&fbclid=9&gclid=&a=0", tracking) == (
        "a=0&a=1&b=2"
    )
    assert policy.normalized_query("%zz=%%&x", tracking) == "%25zz=%25%25&x="


def test_stale_window_from_directive_or_default() -> None:
    assert policy.stale_window(policy.cache_control("stale-while-revalidate=90"), 30) == 90
    assert policy.stale_window(policy.cache_control("stale-while-revalidate=x"), 30) == 30
