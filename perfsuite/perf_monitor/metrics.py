"""perf_monitor's metrics and what it records into them, per request and per sample.

Metric names (all in ``perfsuite.core.metrics.registry``):

- ``perfsuite_http_request_seconds{route,method,status}``: latency histogram;
  ``status`` is the class (``2xx`` ... ``5xx``), a raised exception counts as ``5xx``.
- ``perfsuite_http_inflight``: requests in progress (gauge, per process).
- ``perfsuite_http_client_disconnects{route}``: requests the client abandoned under
  ASGI (Django cancels the view); neither a latency nor a status is recorded.
- ``perfsuite_http_queue_seconds``: time between the front server's
  ``X-Request-Start``/``X-Queue-Start`` stamp and the start of the request.
- ``perfsuite_http_timing_seconds{route,name}``: request timing context entries.
- ``perfsuite_process_rss_bytes``, ``perfsuite_process_cpu_percent``,
  ``perfsuite_process_start_time`` (gauges, one value per process) and
  ``perfsuite_process_rss_sample_bytes`` (histogram of the samples, for the
  memory chart), sampled at most every ``RESOURCE_SAMPLE_INTERVAL`` seconds. CPU is
  measured over the time since the previous sample (at least
  ``MIN_CPU_INTERVAL``): the first sample of a process primes it and reports none.
"""

from __future__ import annotations

import threading
import time

from django.http import HttpRequest, HttpResponseBase

from perfsuite.core import metrics, process, timing
from perfsuite.core.conf import perf_settings
from perfsuite.core.process import ProcessSampler

from .slowest import slowest

REQUEST_SECONDS = "perfsuite_http_request_seconds"
UNMATCHED = timing.UNMATCHED
route_of = timing.route_of
STANDARD_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
)

LATENCY = metrics.histogram(
    REQUEST_SECONDS, "Request latency in seconds", ("route", "method", "status")
)
INFLIGHT = metrics.gauge("perfsuite_http_inflight", "Requests in progress")
# Requests in progress in this process; the gauge is set from it at each resource
# sample rather than written twice per request.
_inflight_lock = threading.Lock()
_inflight_now = [0]


def request_started() -> None:
    with _inflight_lock:
        _inflight_now[0] += 1


def request_finished() -> None:
    with _inflight_lock:
        _inflight_now[0] -= 1


def _inflight() -> int:
    return _inflight_now[0]


DISCONNECTS = metrics.counter(
    "perfsuite_http_client_disconnects",
    "Requests the client abandoned before the response (ASGI), by route",
    ("route",),
)
#: the guide's APMCollector: named metrics and counters with tags
APM_METRIC = "perfsuite_apm_metric"
APM_COUNTER = "perfsuite_apm_counter"
APM_METRICS = metrics.histogram(APM_METRIC, "APMCollector.record_metric", ("metric", "tags"))
APM_COUNTERS = metrics.counter(APM_COUNTER, "APMCollector.increment_counter", ("counter", "tags"))
QUEUE = metrics.histogram("perfsuite_http_queue_seconds", "Time queued before the app")
TIMINGS = metrics.histogram(
    "perfsuite_http_timing_seconds", "Server-Timing entries per route", ("route", "name")
)
RSS = metrics.gauge("perfsuite_process_rss_bytes", "Resident memory of the process")
RSS_SAMPLES = metrics.histogram(
    "perfsuite_process_rss_sample_bytes", "Resident memory samples of the processes (bytes)"
)
CPU = metrics.gauge(
    "perfsuite_process_cpu_percent", "CPU use of the process (100 = one core) since its last sample"
)
#: CPU over a shorter interval than this is noise (3180 % seen right after start)
MIN_CPU_INTERVAL = process.MIN_CPU_INTERVAL
START_TIME = metrics.gauge("perfsuite_process_start_time", "Process start (epoch seconds)")

_time = time.time


def method_of(request: HttpRequest) -> str:
    method = request.method or ""
    return method if method in STANDARD_METHODS else "OTHER"


def parse_request_start(raw: str | None, now: float) -> float | None:
    """Seconds queued, from ``t=1700000000.123`` (s, ms or µs); None when unusable."""
    if not raw:
        return None
    value = raw.strip()
    if value.startswith("t="):
        value = value[2:]
    try:
        stamp = float(value)
    except ValueError:
        return None
    if stamp != stamp or stamp <= 0:  # NaN
        return None
    if stamp > 1e14:
        stamp /= 1e6
    elif stamp > 1e11:
        stamp /= 1e3
    queued = now - stamp
    return queued if 0 <= queued < 3600 else None


class _Sampler:
    """Process figures into the gauges, at most once per ``RESOURCE_SAMPLE_INTERVAL``."""

    def __init__(self) -> None:
        #: when the next sample is due (read without the lock on every request)
        self.due = 0.0
        self._lock = threading.Lock()
        self.process = ProcessSampler()
        self.cores = self.process.cores

    def maybe_sample(self, now: float) -> None:
        if now < self.due or not self._lock.acquire(blocking=False):
            return
        try:
            self.due = now + float(perf_settings.RESOURCE_SAMPLE_INTERVAL)
            self.sample()
        finally:
            self._lock.release()

    def sample(self) -> dict[str, float | None]:
        figures = self.process.sample(MIN_CPU_INTERVAL)
        START_TIME.set(figures.start_time)  # every sample: a reset clears gauges
        RSS.set(figures.rss)
        RSS_SAMPLES.observe(figures.rss)
        if figures.cpu is not None:
            CPU.set(figures.cpu)
        INFLIGHT.set(_inflight())
        return {"rss": figures.rss, "cpu": figures.cpu}

    def cpu_since_start(self) -> float:
        return self.process.cpu_since_start()


sampler = _Sampler()


def record_disconnect(request: HttpRequest) -> None:
    try:
        DISCONNECTS.labels(route_of(request)).inc()
    except Exception:  # monitoring must never break the cancellation
        pass


def record_request(request: HttpRequest, response: HttpResponseBase | None, elapsed: float) -> None:
    if "_perfsuite_scrape" in request.__dict__:
        return  # a Prometheus scrape is not traffic of the site (views.SCRAPE_MARK)
    route = route_of(request)
    method = method_of(request)
    status_code = response.status_code if response is not None else 500
    now = _time()
    record_answer(route, method, status_code, elapsed, now)
    meta = request.META
    stamp = meta.get("HTTP_X_REQUEST_START") or meta.get("HTTP_X_QUEUE_START")
    if stamp:
        queued = parse_request_start(stamp, now - elapsed)
        if queued is not None:
            QUEUE.observe(queued)
    current = timing.current()
    if current is not None and current.entries:
        entries = current.entries
        if len(entries) == 1:
            TIMINGS.labels(route, entries[0].name).observe(entries[0].duration)
        else:
            for name, seconds in current.totals().items():
                TIMINGS.labels(route, name).observe(seconds)


#: status code -> its class label
_CLASSES = {code: f"{code // 100}xx" for code in range(100, 600)}


def record_answer(route: str, method: str, status_code: int, elapsed: float, now: float) -> None:
    """The latency, the slowest requests and the process sample of one answered request
    (by Django's handler or at the front door); ``method`` already bounded."""
    LATENCY.labels(route, method, _CLASSES.get(status_code, "5xx")).observe(elapsed)
    if elapsed > slowest.floor:
        slowest.offer(elapsed, route, method, status_code)
    if now >= sampler.due:
        sampler.maybe_sample(now)
