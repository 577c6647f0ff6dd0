from django.http import HttpResponse
from django.urls import path
from django.views.decorators.cache import cache_page

BODY = ("<p>" + "product card " * 20 + "</p>\n") * 40  # ~11 KB of HTML


def page(request):  # type: ignore[no-untyped-def]
    return HttpResponse(BODY)


async def apage(request):  # type: ignore[no-untyped-def]
    return HttpResponse(BODY)


urlpatterns = [
    path("ours/", page),
    path("ours-async/", apage),
    path("cache-page/", cache_page(300)(page)),
    path("cache-page-redis/", cache_page(300, cache="redis")(page)),
    path("cache-page-async/", cache_page(300)(apage)),
    path("cache-page-redis-async/", cache_page(300, cache="redis")(apage)),
]
