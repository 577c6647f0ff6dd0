"""The Task runs page in Django admin (Admin → Background tasks → Task runs).

Every run of every worker and host (:class:`.models.TaskRun`), filtered by state,
task and time; above the list, the runs that look stuck and the broker's
unacknowledged messages (:mod:`.inflight`). Who may look: the dashboard's rule
(:func:`perfsuite.core.access.can_view`). A failed or dead-lettered run is sent again
by hand with a POST (CSRF, ``perfsuite_tasks.retry_taskrun``), recorded on the run
with who and when. Arguments are shown only as far as ``TASK_RUN_ARGUMENTS`` allows.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from perfsuite.core.access import can_view
from perfsuite.core.conf import perf_settings

from . import inflight
from .models import TaskRun

RETRY_PERMISSION = "perfsuite_tasks.retry_taskrun"
RETRYABLE = (TaskRun.FAILURE, TaskRun.DEAD)


def shown_arguments(run: TaskRun) -> str:
    """The run's arguments as the setting allows: names and types only by default."""
    if run.args is None and run.kwargs is None:
        return "-"
    args, kwargs = list(run.args or []), dict(run.kwargs or {})
    if perf_settings.as_dict()["TASK_RUN_ARGUMENTS"] == "full":
        text = ", ".join([*(repr(a) for a in args), *(f"{k}={v!r}" for k, v in kwargs.items())])
        return text if len(text) <= 2000 else text[:2000] + "…"
    kinds = [type(a).__name__ for a in args]
    return (
        ", ".join(
            [*(f"<{k}>" for k in kinds), *(f"{k}=<{type(v).__name__}>" for k, v in kwargs.items())]
        )
        + " (redacted: TASK_RUN_ARGUMENTS)"
    )


def can_retry(user: Any, run: TaskRun | None = None) -> bool:
    allowed = can_view(user) and user.has_perm(RETRY_PERMISSION)
    return bool(allowed and (run is None or (run.state in RETRYABLE and run.args is not None)))


@admin.register(TaskRun)
class TaskRunAdmin(admin.ModelAdmin):
    list_display = (
        "task_name",
        "state",
        "queue",
        "worker",
        "started_at",
        "finished_at",
        "duration_ms",
        "attempts",
    )
    list_filter = ("state", "task_name", "queue", "finished_at", "enqueued_at")
    search_fields = ("=task_id", "task_name", "worker")
    date_hierarchy = "updated_at"
    list_per_page = 50
    show_full_result_count = False
    change_list_template = "perfsuite/tasks/admin/change_list.html"
    change_form_template = "perfsuite/tasks/admin/change_form.html"
    fields = (
        "task_id",
        "task_name",
        "state",
        "queue",
        "worker",
        "enqueued_at",
        "started_at",
        "last_attempted_at",
        "finished_at",
        "duration_ms",
        "attempts",
        "redeliveries",
        "arguments",
        "error",
        "traceback",
        "retried_at",
        "retried_by",
        "retry_task_id",
    )
    readonly_fields = fields

    # -- who may do what -----------------------------------------------------------
    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the retention removes runs (manage.py task_runs_purge)

    # -- columns -------------------------------------------------------------------
    @admin.display(description="duration (ms)", ordering="duration")
    def duration_ms(self, run: TaskRun) -> str:
        return "-" if run.duration is None else f"{run.duration * 1000:.1f}"

    @admin.display(description="arguments")
    def arguments(self, run: TaskRun) -> str:
        return shown_arguments(run)

    # -- pages ---------------------------------------------------------------------
    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        unacked, broker_error = inflight.unacknowledged()
        context = {
            "stuck_runs": inflight.stuck_runs(),
            "unacknowledged": unacked,
            "broker_error": broker_error,
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        run = TaskRun.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        context = {
            "can_retry": run is not None and can_retry(request.user, run),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list[URLPattern]:
        retry = self.admin_site.admin_view(require_POST(self.retry_view))
        return [
            path("<int:pk>/retry/", retry, name="perfsuite_tasks_taskrun_retry"),
            *super().get_urls(),
        ]

    def retry_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = get_object_or_404(TaskRun, pk=pk)
        if not can_retry(request.user):
            raise PermissionDenied
        if not can_retry(request.user, run):
            self.message_user(
                request,
                f"{run} cannot be retried (only failed or dead-lettered runs with their arguments)",
                messages.ERROR,
            )
        else:
            try:
                new_id = retry(run, str(request.user.get_username()))
            except Exception as exc:  # the broker is down: say so, change nothing
                self.message_user(request, f"not sent: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    format_html("Sent {} again as {}.", run.task_name, new_id),
                    messages.SUCCESS,
                )
        return HttpResponseRedirect(reverse("admin:perfsuite_tasks_taskrun_change", args=[run.pk]))


def retry(run: TaskRun, who: str) -> str:
    """Send ``run``'s task again with its arguments under a new task id; recorded."""
    from celery import current_app

    new_id = str(uuid.uuid4())
    options: dict[str, Any] = {"task_id": new_id}
    if run.queue:
        options["queue"] = run.queue
    current_app.send_task(
        run.task_name, args=list(run.args or []), kwargs=dict(run.kwargs or {}), **options
    )
    TaskRun.objects.filter(pk=run.pk).update(
        retried_at=timezone.now(), retried_by=who[:150], retry_task_id=new_id
    )
    return new_id
