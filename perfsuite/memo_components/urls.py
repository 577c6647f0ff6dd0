"""The app's endpoints: ``path("components/", include("perfsuite.memo_components.urls"))``."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import lazy_views, virtual_views

app_name = "perfsuite_components"

urlpatterns: list[URLPattern] = []
# lazy components: GET lazy/<name>/?t=<signed props> (lazy_views.py)
urlpatterns.append(path("lazy/<str:name>/", lazy_views.load, name="lazy"))
# virtual lists: GET virtual/<source>/?start=&end=&t=<signed token> (virtual_views.py)
urlpatterns.append(path("virtual/<str:source>/", virtual_views.window, name="virtual-window"))
