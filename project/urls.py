from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from perfsuite.perf_monitor.admin import admin_urls as perf_admin_urls

urlpatterns = [
    # /admin/performance/: before admin.site.urls, whose catch-all would answer first.
    path("admin/", include(perf_admin_urls())),
    path("admin/", admin.site.urls),
    path("metrics/", include("perfsuite.perf_monitor.urls")),
    # memo_components: virtual list windows and lazy component loads
    path("components/", include("perfsuite.memo_components.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("project.shop.urls")),
]
