from django.db import connections
from django.http import HttpResponse
from django.urls import path


def one_query(request, alias):  # type: ignore[no-untyped-def]
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok")


urlpatterns = [path("<str:alias>/", one_query)]
