"""The app's endpoints: ``path("components/", include("perfsuite.memo_components.urls"))``."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

app_name = "perfsuite_components"

urlpatterns: list[URLPattern] = []
