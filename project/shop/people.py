"""The demo's user pages, on query_opt's ``OptimizedQuerySet``.

- ``/users/?q=…&page=…``: search with pagination and totals (HTML);
- ``/users/search.json?q=…&page=…&page_size=…&count=…&cursor=…``: the guide's dict as
  JSON; ``next_cursor`` (signed) reads the next page by keyset;
- ``/users/<id>/``: a user, their profile and recent posts in at most 3 queries.

Bad paging input (a forged cursor too) answers 400 with the reason, never a 500 or an
unbounded query.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from perfsuite.query_opt.queries import OptimizedQuerySet


def _users() -> OptimizedQuerySet:
    return OptimizedQuerySet.for_model(get_user_model())


def _row(user: Any) -> dict[str, Any]:
    profile = getattr(user, "profile", None) if _has_profile(user) else None
    return {
        "id": user.pk,
        "username": user.get_username(),
        "location": profile.location if profile is not None else "",
        "post_count": getattr(user, "post_count", None),
    }


def _has_profile(user: Any) -> bool:
    try:
        user.profile  # noqa: B018 - select_related: no query
    except Exception:
        return False
    return True


@require_safe
def user_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    try:
        found = _users().search(query, page=request.GET.get("page", 1), page_size=20)
    except ValueError as exc:
        return render(request, "shop/users.html", {"q": query, "error": str(exc)}, status=400)
    rows = [_row(u) for u in found["users"]]
    return render(request, "shop/users.html", {"q": query, "found": found, "rows": rows})


@require_safe
def user_search_json(request: HttpRequest) -> JsonResponse:
    params = request.GET
    try:
        found = _users().search(
            params.get("q", ""),
            page=params.get("page", 1),
            page_size=params.get("page_size", 20),
            count=params.get("count", "exact"),
            cursor=params.get("cursor"),
        )
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({**found, "users": [_row(u) for u in found["users"]]})


@require_safe
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_user_model()
    try:
        user = _users().with_recent_posts(pk, limit=10)
    except model.DoesNotExist:
        raise Http404("no such user") from None
    context = {"person": user, "location": _row(user)["location"], "posts": user.recent_posts}
    return render(request, "shop/user_detail.html", context)
