from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics/", include("perfsuite.perf_monitor.urls")),
    path("", include("project.shop.urls")),
]
