"""The guide's tabbed ``Dashboard`` (Overview, Charts, Data) at ``/dashboard/``.

Charts and Data are lazy components (``{% lazy %}``): the page ships their
placeholders, and the browser loads each one once, when its tab is first shown. The
loaders are the guide's: ``load_chart_component`` (async, with a simulated delay) and
``load_data_table`` (sync); each returns its component class, created on first use.

:func:`fail_next_load` makes a loader fail (for the browser test, and with
``?fail=chart`` or ``?fail=data_table`` while ``DEBUG`` is on): a switch of this
process that no client can flip in production, and nothing that travels in the props.
"""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Min, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from perfsuite.cache import cache_response
from perfsuite.memo_components.components import Component, Prop
from perfsuite.memo_components.lazy import LazyLoadError, get_lazy, register_lazy

from .models import Post, Product

CHART_HEIGHT = 260
TABLE_ROWS = 15

_failures: dict[str, tuple[int, str]] = {}
_failures_lock = threading.Lock()


def fail_next_load(name: str, times: int = 1, message: str | None = None) -> None:
    """Make the next ``times`` loads of lazy component ``name`` fail (in this process)."""
    lazy = get_lazy(name)  # LookupError for a name that is not registered as lazy
    with _failures_lock:
        _failures[name] = (times, message or f"The {name} service did not answer.")
    lazy.forget()  # so its loader runs again


def _forced_failure(name: str) -> None:
    with _failures_lock:
        times, message = _failures.get(name, (0, ""))
        if times <= 0:
            return
        _failures[name] = (times - 1, message)
    raise LazyLoadError(message)


async def load_chart_component() -> type[Component]:
    """Simulate loading a heavy charting component."""
    await asyncio.sleep(0.1)  # simulated network delay
    _forced_failure("chart")

    class ChartComponent(Component):
        """A bar chart drawn as SVG, one bar per value."""

        template_name = "shop/components/chart.html"
        declared_props = {
            "title": Prop(str, default=""),
            "data": Prop(list),
            "labels": Prop(list, default=[]),
            "height": Prop(int, default=CHART_HEIGHT),
        }

        def get_context_data(self) -> dict[str, Any]:
            data = [float(v) for v in self.props["data"]]
            top = max(data, default=0) or 1
            plot = self.props["height"] - 40  # room for the labels
            width = 100 / max(len(data), 1)
            labels = self.props["labels"]
            bars = [
                {
                    "x": f"{i * width + width * 0.1:.2f}",
                    "width": f"{width * 0.8:.2f}",
                    "height": f"{plot * value / top:.1f}",
                    "y": f"{plot - plot * value / top:.1f}",
                    "value": f"{value:g}",
                    "label": labels[i] if i < len(labels) else "",
                }
                for i, value in enumerate(data)
            ]
            return {**self.props, "bars": bars, "plot_height": plot}

    return ChartComponent


def load_data_table() -> type[Component]:
    """Load the data table component (a sync loader: it runs in Django's sync thread)."""
    _forced_failure("data_table")

    class DataTable(Component):
        template_name = "shop/components/data_table.html"
        declared_props = {"columns": Prop(list), "rows": Prop(list)}

    return DataTable


LazyChart = register_lazy(
    "chart", load_chart_component, fallback="Loading chart…", height=CHART_HEIGHT
)
LazyTable = register_lazy("data_table", load_data_table, fallback="Loading table…", height=200)


def chart_data() -> tuple[list[str], list[int]]:
    """Products per price band, in two queries (props are JSON: labels and counts)."""
    bounds = Product.objects.aggregate(low=Min("price"), high=Max("price"))
    low, high = bounds["low"], bounds["high"]
    if low is None or high is None:
        return [], []
    bands = 6
    step = max((high - low) / bands, Decimal(1))
    edges = [low + step * band for band in range(bands)] + [max(high, low + step * bands)]
    counts = Product.objects.aggregate(
        **{
            f"b{band}": Count(
                "pk",
                filter=Q(price__gte=edges[band])
                & (Q(price__lte=edges[-1]) if band == bands - 1 else Q(price__lt=edges[band + 1])),
            )
            for band in range(bands)
        }
    )
    labels = [f"{edges[band]:.0f}–{edges[band + 1]:.0f}" for band in range(bands)]
    return labels, [counts[f"b{band}"] for band in range(bands)]


def table_rows() -> list[list[str]]:
    """The most expensive products: [name, price] (JSON values, as props must be)."""
    rows = Product.objects.order_by("-price", "pk").values_list("name", "price")[:TABLE_ROWS]
    return [[name, f"{price:.2f}"] for name, price in rows]


@require_safe
@cache_response(tags=["products", "posts"])  # its table and counts: fresh after an edit
def dashboard(request: HttpRequest) -> HttpResponse:
    if settings.DEBUG and request.GET.get("fail") in ("chart", "data_table"):
        fail_next_load(request.GET["fail"])
    labels, counts = chart_data()
    overview = {
        "products": Product.objects.count(),
        "posts": Post.objects.filter(status=Post.Status.PUBLISHED).count(),
        "users": get_user_model().objects.aggregate(n=Count("pk"))["n"],
    }
    context = {
        "overview": overview,
        "chart_labels": labels,
        "chart_counts": counts,
        "chart_height": CHART_HEIGHT,
        "columns": ["Product", "Price"],
        "rows": table_rows(),
    }
    response = render(request, "shop/dashboard.html", context)
    if "fail" in request.GET:
        add_never_cache_headers(response)  # each visit arms the failure again
    return response
