"""Server-rendered pages of the demo site.

Every value that comes from the database goes through the template engine's
auto-escaping: nothing here marks user data safe.
"""

from __future__ import annotations

import logging
import uuid

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods, require_safe
from kombu.exceptions import KombuError

from perfsuite.cache import cache_response

from . import tasks
from .models import Post, Product, Profile

logger = logging.getLogger(__name__)

PAGE_SIZE = 50


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "first_product": Product.objects.only("pk").order_by("pk").first(),
        "first_post": Post.objects.filter(status=Post.Status.PUBLISHED)
        .only("pk")
        .order_by("pk")
        .first(),
    }
    return render(request, "shop/home.html", context)


@require_safe
@cache_response(tags=["products"])
def product_list(request: HttpRequest) -> HttpResponse:
    products = Product.objects.only(
        "pk", "name", "price", "description", "image", "updated_at"
    ).order_by("name", "pk")
    # get_page() turns a non-number into page 1 and a page past the end into the last one.
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "shop/product_list.html", {"page": page})


@require_safe
@cache_response(tags=["products"])
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    return render(request, "shop/product_detail.html", {"product": product})


@require_safe
def post_list(request: HttpRequest) -> HttpResponse:
    posts = (
        Post.objects.filter(status=Post.Status.PUBLISHED)
        .select_related("author")
        .only("pk", "title", "created_at", "author__username")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(posts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "shop/post_list.html", {"page": page})


@require_safe
def slow_posts(request: HttpRequest) -> HttpResponse:
    """The latest 100 posts written the slow way on purpose: one query per author (N+1,
    101 queries). ``?fixed=1`` shows the same page with ``select_related``: 1 query.

    query_opt finds the slow one: Admin -> Performance lists the finding with this
    file's line; the test settings turn findings into errors.
    """
    fixed = request.GET.get("fixed") == "1"
    posts = Post.objects.filter(status=Post.Status.PUBLISHED).order_by("-created_at", "-pk")
    if fixed:
        posts = posts.select_related("author")
    rows = [(post, post.author.username) for post in posts[:100]]  # N+1 unless fixed
    return render(request, "shop/slow_posts.html", {"rows": rows, "fixed": fixed})


@require_safe
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(
        Post.objects.select_related("author"), pk=pk, status=Post.Status.PUBLISHED
    )
    return render(request, "shop/post_detail.html", {"post": post})


@require_safe
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user_id = int(request.user.pk or 0)  # login_required: a signed-in user
    context = {
        "profile": Profile.objects.filter(user_id=user_id).first(),
        "post_count": Post.objects.filter(author_id=user_id).count(),
    }
    return render(request, "shop/profile.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def run_demo_task(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {}
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("kind") == "fails-once":
                result = tasks.fails_once.delay(uuid.uuid4().hex[:12])
                context["fails_once"] = True
            else:
                result = tasks.add.delay(2, 3)
        except (KombuError, OSError) as exc:
            logger.warning("demo task not enqueued: %s", exc)
            context["error"] = "The task broker is unreachable right now; try again later."
            status = 503
        else:
            context["task_id"] = result.id
    return render(request, "shop/demo_task.html", context, status=status)
