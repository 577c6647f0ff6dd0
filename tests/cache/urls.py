"""Views for the response cache tests; each counts its renders."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from perfsuite.cache import cache_response

RENDERS: Counter[str] = Counter()
_lock = threading.Lock()


def counted(name: str) -> None:
    with _lock:
        RENDERS[name] += 1


def whoami(request: HttpRequest) -> HttpResponse:
    counted("whoami")
    user = request.user.username if request.user.is_authenticated else "anonymous"
    return HttpResponse(f"hello {user} #{RENDERS['whoami']}")


def page(request: HttpRequest) -> HttpResponse:
    counted("page")
    return HttpResponse(f"page #{RENDERS['page']} q={request.GET.urlencode()}")


def by_language(request: HttpRequest) -> HttpResponse:
    counted("lang")
    response = HttpResponse(f"lang={request.headers.get('Accept-Language', '')}")
    response["Vary"] = "Accept-Language"
    return response


def slow(request: HttpRequest) -> HttpResponse:
    counted("slow")
    time.sleep(0.3)
    return HttpResponse(f"slow #{RENDERS['slow']}")


def with_header(request: HttpRequest) -> HttpResponse:
    counted("header")
    response = HttpResponse(f"header #{RENDERS['header']}")
    response["Cache-Control"] = request.GET.get("cc", "")
    return response


def sets_cookie(request: HttpRequest) -> HttpResponse:
    counted("cookie")
    response = HttpResponse("cookie")
    response.set_cookie("flavour", "oat")
    return response


def csrf_form(request: HttpRequest) -> HttpResponse:
    counted("csrf")
    return HttpResponse(
        f'<form><input name="csrfmiddlewaretoken" value="{get_token(request)}"></form>'
    )


def session_write(request: HttpRequest) -> HttpResponse:
    counted("session")
    request.session["seen"] = True
    return HttpResponse("session")


def cart(request: HttpRequest) -> HttpResponse:
    counted("cart")
    return HttpResponse(f"seen={request.session.get('seen')}")


def vary_star(request: HttpRequest) -> HttpResponse:
    counted("star")
    response = HttpResponse("star")
    response["Vary"] = "*"
    return response


def error(request: HttpRequest) -> HttpResponse:
    counted("error")
    return HttpResponse("error", status=500)


def missing(request: HttpRequest) -> HttpResponse:
    counted("missing")
    return HttpResponse("gone", status=404)


def stream(request: HttpRequest) -> StreamingHttpResponse:
    counted("stream")
    return StreamingHttpResponse(iter([b"a", b"b"]))


def with_message(request: HttpRequest) -> HttpResponse:
    counted("message")
    messages.info(request, "secret for one visitor")
    shown = " ".join(str(m) for m in messages.get_messages(request))
    return HttpResponse(shown)


def post_only(request: HttpRequest) -> HttpResponse:
    counted("post")
    return HttpResponse("posted")


@cache_response(ttl=60, tags=["decorated"])
def decorated(request: HttpRequest) -> HttpResponse:
    counted("decorated")
    user = request.user.username if request.user.is_authenticated else "anonymous"
    return HttpResponse(f"decorated for {user}")


@cache_response(ttl=60)
async def decorated_async(request: HttpRequest) -> HttpResponse:
    counted("decorated_async")
    return HttpResponse(f"async #{RENDERS['decorated_async']}")


async def slow_async(request: HttpRequest) -> HttpResponse:
    counted("slow_async")
    await asyncio.sleep(0.2)
    return HttpResponse(f"slow async #{RENDERS['slow_async']}")


async def async_page(request: HttpRequest) -> HttpResponse:
    counted("async_page")
    return HttpResponse(f"async page #{RENDERS['async_page']}")


def themed(request: HttpRequest) -> HttpResponse:
    """A page built from a non-session cookie, saying so with Vary: Cookie."""
    counted("themed")
    response = HttpResponse(f"theme={request.COOKIES.get('theme', 'light')}")
    patch_vary_headers(response, ["Cookie"])
    return response


def negotiated(request: HttpRequest) -> HttpResponse:
    """JSON for */* (a fetch()), HTML for browsers: as DRF's renderers choose."""
    counted("negotiated")
    response: HttpResponse
    if "text/html" in request.headers.get("Accept", ""):
        response = HttpResponse("<p>html</p>")
    else:
        response = JsonResponse({"format": "json"})
    if request.GET.get("vary") != "no":
        patch_vary_headers(response, ["Accept"])
    return response


def language(request: HttpRequest) -> HttpResponse:
    counted("language")
    return HttpResponse(f"lang={get_language()}")


@require_GET
def get_only(request: HttpRequest) -> HttpResponse:
    counted("get_only")
    return HttpResponse(f"page={request.GET.get('page')}")


SLOW_RENDER_HOOK: list[object] = []


def racy(request: HttpRequest) -> HttpResponse:
    """Runs the hook (an invalidation standing for a concurrent commit) while rendering."""
    counted("racy")
    for hook in SLOW_RENDER_HOOK:
        hook()  # type: ignore[operator]
    return HttpResponse(f"racy #{RENDERS['racy']}")


urlpatterns = [
    path("themed/", themed),
    path("negotiated/", negotiated),
    path("language/", language),
    path("get-only/", get_only),
    path("racy/", racy),
    path("whoami/", whoami),
    path("page/", page),
    path("lang/", by_language),
    path("slow/", slow),
    path("header/", with_header),
    path("cookie/", sets_cookie),
    path("csrf/", csrf_form),
    path("session/", session_write),
    path("star/", vary_star),
    path("cart/", cart),
    path("error/", error),
    path("missing/", missing),
    path("stream/", stream),
    path("message/", with_message),
    path("post/", post_only),
    path("decorated/", decorated),
    path("decorated-async/", decorated_async),
    path("async-page/", async_page),
    path("slow-async/", slow_async),
]
