"""The demo's background task pages: the guide's ``/send-notification``, a task's
state as JSON, a thumbnail, a CSV report and CPU-bound work run by Celery workers.

``/send-notification`` is a JSON API for signed-in users and is CSRF-exempt for that
reason only: it accepts nothing but ``Content-Type: application/json``, which an HTML
form on another site cannot send (and a cross-site ``fetch`` with it needs a CORS
preflight this site never grants), and Django's session cookie is ``SameSite=Lax``, so
a cross-site POST carries no session anyway. Anonymous callers get 401. An optional
``Idempotency-Key`` header makes a retried request do its work once (the key is the
caller's own: it is scoped to the signed-in user).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from perfsuite.tasks.processor import BrokerUnavailable, task_processor
from perfsuite.tasks.task_types import MAX_ROUNDS, max_pixels
from perfsuite.tasks.tasks import report_name, thumbnail_name

MAX_MESSAGE = 2000
#: an Idempotency-Key header: 1 to 200 visible ASCII characters
IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,200}")
MAX_UPLOAD = 10 * 1024 * 1024
THUMBNAIL = 128
#: the reports a user may request: the view picks model and columns, never the user
REPORTS = {
    "products": ("shop.Product", ["id", "name", "price", "created_at"]),
    "posts": ("shop.Post", ["id", "title", "author_id", "status", "created_at"]),
}


def _error(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"status": "error", "error": reason}, status=status)


def _notification(request: HttpRequest) -> tuple[int, str] | JsonResponse:
    if request.content_type != "application/json":
        return _error(415, "send JSON with Content-Type: application/json")
    try:
        data = json.loads(request.body)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an int too long
        detail = "" if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)) else f": {exc}"
        return _error(400, f"the body is not valid JSON{detail}")
    except RecursionError:
        return _error(400, "the body is not valid JSON: nested too deep")
    if not isinstance(data, dict):
        return _error(400, 'send a JSON object: {"user_id": 1, "message": "..."}')
    missing = [key for key in ("user_id", "message") if key not in data]
    if missing:
        return _error(400, f"missing field: {', '.join(missing)}")
    user_id, message = data["user_id"], data["message"]
    if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id < 1:
        return _error(400, "user_id must be a positive integer")
    if not isinstance(message, str) or not message.strip():
        return _error(400, "message must be a non-empty string")
    if len(message) > MAX_MESSAGE:
        return _error(400, f"message is longer than {MAX_MESSAGE} characters")
    try:
        message.encode("utf-8")
    except UnicodeEncodeError:
        return _error(400, "message must be UTF-8 text (it holds a lone surrogate)")
    return user_id, message


@csrf_exempt
@never_cache
@require_POST
def send_notification(request: HttpRequest) -> JsonResponse:
    """Queue an e-mail to a user: 202 ``{"status": "queued", "task_id": …}``. Staff may
    notify anyone, other users themselves only."""
    if not request.user.is_authenticated:
        return _error(401, "sign in first")
    parsed = _notification(request)
    if isinstance(parsed, JsonResponse):
        return parsed
    user_id, message = parsed
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        return _error(400, "Idempotency-Key must be 1 to 200 visible ASCII characters")
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    if user is None:
        return _error(404, f"no user {user_id}")
    if not request.user.is_staff and request.user.pk != user.pk:
        return _error(403, "only staff may notify other users")
    data = {
        "to": user.email or f"user_{user_id}@example.com",
        "subject": "Notification",
        "body": message,
    }
    scoped = f"send-notification:{request.user.pk}:{key}" if key is not None else None
    try:
        task_id = task_processor.queue_task("send_email", data, idempotency_key=scoped)
    except ValueError as exc:
        return _error(400, str(exc))
    except BrokerUnavailable:
        return _error(503, "the task broker is unreachable; try again later")
    return JsonResponse({"status": "queued", "task_id": task_id}, status=202)


@never_cache
@require_safe
def task_status(request: HttpRequest, task_id: uuid.UUID) -> JsonResponse:
    """A task's state; its result (or error) only to staff."""
    from celery.result import AsyncResult

    found = AsyncResult(str(task_id))
    try:
        state = found.state
        body: dict[str, Any] = {"task_id": str(task_id), "state": state, "ready": found.ready()}
        if request.user.is_staff and found.ready():
            result = found.result
            body["result"] = result if found.successful() else repr(result)
    except Exception:  # the result backend is down: say so, not 500
        return _error(503, "the task result backend is unreachable")
    return JsonResponse(body)


def _queue(task_type: str, data: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"task_id": task_processor.queue_task(task_type, data)}
    except (ValueError, BrokerUnavailable) as exc:
        return {"error": str(exc)}


@require_safe
def tasks_index(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/tasks/index.html")


class ImageForm(forms.Form):
    image = forms.ImageField()

    def clean_image(self) -> Any:
        image = self.cleaned_data["image"]
        if image.size > MAX_UPLOAD:
            raise forms.ValidationError(f"at most {MAX_UPLOAD // (1024 * 1024)} MB")
        # the size its header declares (ImageField opened and verified it, decoding
        # nothing): a small file may hold a huge image
        header = getattr(image, "image", None)
        limit = max_pixels()
        if header is not None and header.width * header.height > limit:
            raise forms.ValidationError(
                f"at most {limit:,} pixels: this image is {header.width} x {header.height}"
            )
        return image


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def thumbnail_page(request: HttpRequest) -> HttpResponse:
    form = ImageForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "size": THUMBNAIL}
    upload = request.GET.get("upload", "")
    if request.method == "POST" and form.is_valid():
        image = form.cleaned_data["image"]
        kind = str(getattr(getattr(image, "image", None), "format", None) or "img").lower()
        upload = str(uuid.uuid4())
        name = default_storage.save(f"uploads/{request.user.pk}/{upload}.{kind}", image)
        context.update(_queue("process_image", {"filename": name, "width": THUMBNAIL}))
    if upload:
        context["upload"] = upload
        context["ready"] = _thumbnail(request, upload) is not None
    return render(request, "shop/tasks/thumbnail.html", context, status=200)


def _thumbnail(request: HttpRequest, upload: str) -> str | None:
    """The requester's thumbnail of ``upload`` when it exists (uploads are per user)."""
    folder = f"uploads/{request.user.pk}"
    try:
        names = default_storage.listdir(folder)[1]
    except FileNotFoundError:
        return None
    for name in names:
        if name.startswith(upload + "."):
            thumb = thumbnail_name(f"{folder}/{name}", THUMBNAIL, THUMBNAIL)
            return thumb if default_storage.exists(thumb) else None
    return None


@never_cache
@login_required
@require_safe
def thumbnail_file(request: HttpRequest, upload: uuid.UUID) -> FileResponse:
    name = _thumbnail(request, str(upload))
    if name is None:
        raise Http404("no such thumbnail (yet)")
    return FileResponse(default_storage.open(name, "rb"), content_type="image/png")


class ReportForm(forms.Form):
    type = forms.ChoiceField(choices=[(k, k.title()) for k in REPORTS])


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_page(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["type"]
        model, fields = REPORTS[kind]
        data = {"type": kind, "model": model, "fields": fields, "user_id": request.user.pk}
        context.update(_queue("generate_report", data))
    folder = f"reports/{request.user.pk}"
    try:
        names = default_storage.listdir(folder)[1]
    except FileNotFoundError:
        names = []
    done = [(default_storage.get_modified_time(f"{folder}/{n}"), n[:-4]) for n in names]
    context["reports"] = [task for _, task in sorted(done, reverse=True)[:20]]
    return render(request, "shop/tasks/report.html", context)


@never_cache
@login_required
@require_safe
def report_download(request: HttpRequest, task_id: uuid.UUID) -> FileResponse:
    """The requester's own report only: the path holds the signed-in user's id."""
    name = report_name(int(request.user.pk or 0), str(task_id))
    if not default_storage.exists(name):
        raise Http404("no such report (yet)")
    return FileResponse(
        default_storage.open(name, "rb"),
        as_attachment=True,
        filename=f"report-{task_id}.csv",
        content_type="text/csv",
    )


class CpuForm(forms.Form):
    rounds = forms.IntegerField(min_value=1, max_value=MAX_ROUNDS, initial=500_000)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def cpu_page(request: HttpRequest) -> HttpResponse:
    form = CpuForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        data = {"rounds": form.cleaned_data["rounds"], "seed": str(request.user.pk)}
        context.update(_queue("cpu_intensive", data))
    return render(request, "shop/tasks/cpu.html", context)
