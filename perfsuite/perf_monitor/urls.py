"""``path("metrics/", include("perfsuite.perf_monitor.urls"))`` exposes Prometheus."""

from django.urls import path

from .views import prometheus_metrics

app_name = "perfsuite_perf_monitor"
urlpatterns = [path("", prometheus_metrics, name="prometheus")]
