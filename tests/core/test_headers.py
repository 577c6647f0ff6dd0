"""The one place the suite writes into Django's private header store: it must keep working,
and this test fails loudly the day Django changes ``ResponseHeaders._store``."""

from __future__ import annotations

from django.http import HttpResponse

from perfsuite.core import headers


def test_django_still_keeps_headers_in_the_store_we_write() -> None:
    assert headers.FAST, (
        "django.http.response.ResponseHeaders has no dict _store any more: perfsuite's "
        "fast header writes fall back to the public API (slower); update core/headers.py"
    )
    response = HttpResponse("x")
    headers.set_headers(response, [("X-Response-Time", "0.012s"), ("Server-Timing", "total")])
    assert response["x-response-time"] == "0.012s"
    assert response.headers["Server-Timing"] == "total"
    assert b"X-Response-Time: 0.012s" in response.serialize_headers()
    assert ("Server-Timing", "total") in response.items()


def test_a_prebuilt_store_is_copied_not_shared() -> None:
    store = headers.build_store([("Content-Type", "text/css"), ("ETag", '"abc"')])
    first, second = HttpResponse(), HttpResponse()
    headers.replace_headers(first, store)
    headers.replace_headers(second, store)
    first["ETag"] = '"changed"'
    assert second["ETag"] == '"abc"'
    assert store["etag"] == ("ETag", '"abc"')
    assert first["Content-Type"] == "text/css"
