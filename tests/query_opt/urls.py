"""Views for the query_opt tests: an N+1 loop, the same page in two queries, async ORM."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.urls import path

from perfsuite.query_opt.instrumentation import silence_n_plus_one
from project.shop.models import Post


def n_plus_one(request: HttpRequest) -> HttpResponse:
    names = []
    for post in Post.objects.order_by("pk")[:20]:
        names.append(post.author.username)  # N_PLUS_ONE_LINE: one query per post
    return HttpResponse(" ".join(names))


def joined(request: HttpRequest) -> HttpResponse:
    posts = Post.objects.select_related("author").order_by("pk")[:20]
    return HttpResponse(" ".join(p.author.username for p in posts))


def silenced(request: HttpRequest) -> HttpResponse:
    with silence_n_plus_one():
        names = [p.author.username for p in Post.objects.order_by("pk")[:20]]
    return HttpResponse(" ".join(names))


def _loop() -> str:
    return " ".join(p.author.username for p in Post.objects.order_by("pk")[:20])


async def async_n_plus_one(request: HttpRequest) -> HttpResponse:
    return HttpResponse(await sync_to_async(_loop)())


async def async_orm(request: HttpRequest) -> HttpResponse:
    count = await get_user_model().objects.acount()
    first = await Post.objects.order_by("pk").afirst()
    return HttpResponse(f"{count} {first.title if first else ''}")


urlpatterns = [
    path("n-plus-one/", n_plus_one),
    path("joined/", joined),
    path("silenced/", silenced),
    path("async-n-plus-one/", async_n_plus_one),
    path("async-orm/", async_orm),
]
