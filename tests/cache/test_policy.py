"""Header parsing rules of the cache, table-driven (no I/O)."""

from __future__ import annotations

import pytest

from perfsuite.cache import keyparts, policy

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


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (BROWSER, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        (BROWSER, "TEXT/HTML, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8"),
        (None, "*/*"),  # no Accept means any representation (RFC 9110)
        ("application/json", "application/json;q=1"),
    ],
)
def test_accept_strings_that_rank_alike_share_a_key(first: str | None, second: str) -> None:
    assert keyparts.normalized_accept(first) == keyparts.normalized_accept(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("*/*", "text/html"),  # a fetch() and a browser: a negotiating view answers each
        ("*/*", BROWSER),
        ("application/json", "text/html"),
        ("text/html;q=0, application/json;q=0.1", "application/json"),
        ("image/png", "*/*"),
    ],
)
def test_accept_strings_that_rank_differently_never_share(first: str, second: str) -> None:
    assert keyparts.normalized_accept(first) != keyparts.normalized_accept(second)


@pytest.mark.parametrize("hostile", ["text/html;q=abc", ",,,;;;", "x" * 10_000, "*/*;q=2"])
def test_hostile_accept_headers_give_a_short_key_part(hostile: str) -> None:
    assert len(keyparts.normalized_accept(hostile)) < 40


def test_query_is_sorted_by_name_and_tracking_dropped() -> None:
    tracking = ("utm_*", "fbclid", "gclid")
    assert keyparts.normalized_query("b=2&utm_source=x&a=1&fbclid=9&gclid=&a=0", tracking) == (
        "a=1&a=0&b=2"
    )
    assert keyparts.normalized_query("%zz=%%&x", tracking) == "%25zz=%25%25&x="


def test_repeated_values_keep_their_order() -> None:
    # GET.get("page") is the last value: ?page=3&page=2 is page 2, never page 3's entry
    assert keyparts.normalized_query("page=3&page=2", ()) != keyparts.normalized_query(
        "page=2&page=3", ()
    )


def test_stale_window_from_directive_or_default() -> None:
    assert policy.stale_window(policy.cache_control("stale-while-revalidate=90"), 30) == 90
    assert policy.stale_window(policy.cache_control("stale-while-revalidate=x"), 30) == 30
