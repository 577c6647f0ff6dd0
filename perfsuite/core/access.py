"""Who may see the performance pages: active staff with the dashboard permission
(``perfsuite_perf_monitor.view_dashboard``; superusers have it). One rule for every
app's pages (the dashboard and its feeds, the Task runs page), so no app imports
another to ask."""

from __future__ import annotations

PERMISSION = "perfsuite_perf_monitor.view_dashboard"


def can_view(user: object) -> bool:
    """The one permission check of the dashboard, its feeds and the apps' admin pages."""
    return bool(
        getattr(user, "is_active", False)
        and getattr(user, "is_staff", False)
        and user.has_perm(PERMISSION)  # type: ignore[attr-defined]
    )
