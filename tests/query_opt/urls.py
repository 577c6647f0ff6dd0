"""Views for the query_opt tests: an N+1 loop, the same page in two queries, async ORM,
eager loads read and never read."""

from __future__ import annotations

from pathlib import Path

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.template import Engine, engines
from django.template.backends.django import Template as BackendTemplate
from django.template.response import TemplateResponse
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


def unused_select(request: HttpRequest) -> HttpResponse:
    posts = Post.objects.select_related("author").order_by("pk")[:20]
    return HttpResponse(" ".join(p.title for p in posts))  # UNUSED_SELECT_LINE


def unused_prefetch(request: HttpRequest) -> HttpResponse:
    users = get_user_model().objects.prefetch_related("posts").order_by("pk")
    return HttpResponse(" ".join(u.username for u in users))  # UNUSED_PREFETCH_LINE


def _both() -> str:
    names = [post.author.username for post in Post.objects.order_by("pk")[:20]]  # BOTH_N_PLUS_ONE
    users = list(get_user_model().objects.prefetch_related("posts"))  # BOTH_UNUSED
    return f"{len(names)} {len(users)}"


def both(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_both())


async def async_both(request: HttpRequest) -> HttpResponse:
    return HttpResponse(await sync_to_async(_both)())


def eager_read(request: HttpRequest) -> HttpResponse:
    """Every eager load read once: no finding."""
    model = get_user_model()
    posts = list(Post.objects.select_related("author").order_by("pk")[:20])
    first_author = posts[0].author.username  # one read uses the whole load
    users = model.objects.prefetch_related("posts").order_by("pk")
    counts = [u.posts.count() for u in users]
    latest = model.objects.prefetch_related(
        Prefetch("posts", queryset=Post.objects.order_by("-pk"), to_attr="latest")
    ).order_by("pk")
    listed = sum(1 for u in latest if u.latest)
    nested = Post.objects.prefetch_related("author__posts").order_by("pk")[:5]
    seen = [len(p.author.posts.all()) for p in nested]
    return HttpResponse(f"{first_author} {sum(counts)} {listed} {seen}")


def eager_empty(request: HttpRequest) -> HttpResponse:
    """A select_related that matched no rows loaded nothing: no finding."""
    return HttpResponse(str(list(Post.objects.select_related("author").filter(pk=-1))))


def eager_silenced(request: HttpRequest) -> HttpResponse:
    with silence_n_plus_one():
        posts = list(Post.objects.select_related("author").order_by("pk"))
    return HttpResponse(str(len(posts)))


def eager_nested_unused(request: HttpRequest) -> HttpResponse:
    """The authors are read, their profiles never: one finding, for the profiles."""
    posts = Post.objects.prefetch_related("author__profile").order_by("pk")[:10]
    return HttpResponse(" ".join(p.author.username for p in posts))


_templates = Engine(dirs=[str(Path(__file__).parent / "templates")])


def template_n_plus_one(request: HttpRequest) -> TemplateResponse:
    """The loop in a template rendered after the view returned."""
    posts = Post.objects.order_by("pk")[:10]
    template = BackendTemplate(_templates.get_template("n_plus_one.html"), engines["django"])
    return TemplateResponse(request, template, {"posts": posts})


async def awaited_n_plus_one(request: HttpRequest) -> HttpResponse:
    names = []
    async for post in Post.objects.order_by("pk")[:10]:
        author = await get_user_model().objects.aget(pk=post.author_id)  # AWAITED_LINE
        names.append(author.username)
    return HttpResponse(" ".join(names))


urlpatterns = [
    path("template-n-plus-one/", template_n_plus_one),
    path("awaited-n-plus-one/", awaited_n_plus_one),
    path("n-plus-one/", n_plus_one),
    path("joined/", joined),
    path("silenced/", silenced),
    path("async-n-plus-one/", async_n_plus_one),
    path("async-orm/", async_orm),
    path("unused-select/", unused_select),
    path("unused-prefetch/", unused_prefetch),
    path("both/", both),
    path("async-both/", async_both),
    path("eager-read/", eager_read),
    path("eager-empty/", eager_empty),
    path("eager-silenced/", eager_silenced),
    path("eager-nested-unused/", eager_nested_unused),
]
