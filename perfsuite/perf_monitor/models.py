"""The admin entry of the performance dashboard.

Like django-rq's ``Dashboard``: an unmanaged model with no table, which exists
only so the dashboard gets a place in Django admin and one permission
(``perfsuite_perf_monitor.view_dashboard``) that staff can be granted.
"""

from __future__ import annotations

from django.db import models


class PerformanceDashboard(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_dashboard", "Can view the performance dashboard")]
        verbose_name = "Performance"
        verbose_name_plural = "Performance"

    def __str__(self) -> str:
        return "Performance dashboard"
