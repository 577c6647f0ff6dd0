from django.http import HttpResponse
from django.urls import path


def trivial(request):  # type: ignore[no-untyped-def]
    return HttpResponse("ok")


async def async_trivial(request):  # type: ignore[no-untyped-def]
    return HttpResponse("ok")


urlpatterns = [path("trivial/", trivial), path("async/", async_trivial)]
