"""The Prometheus URL: closed by default, exact buckets, per-process gauges, no scrape counted."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client, override_settings

from tests.perf_monitor.conftest import snapshot

LATENCY_NAME = "perfsuite_http_request_seconds"
pytestmark = [pytest.mark.urls("tests.perf_monitor.urls"), pytest.mark.django_db]


def permitted_staff() -> User:
    user = User.objects.create_user("ops", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    return user


def _families(text: str) -> dict[str, object]:
    from prometheus_client.parser import text_string_to_metric_families

    return {family.name: family for family in text_string_to_metric_families(text)}


def test_prometheus_is_closed_by_default(client: Client) -> None:
    client.get("/ok/")
    response = client.get("/metrics/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    client.force_login(User.objects.create_user("joe", password="x"))
    assert client.get("/metrics/").status_code == 403
    client.force_login(User.objects.create_user("staff", password="x", is_staff=True))
    assert client.get("/metrics/").status_code == 403


def test_prometheus_text_for_permitted_staff(client: Client) -> None:
    for pk in range(3):
        client.get(f"/items/{pk}/")
    client.force_login(permitted_staff())
    response = client.get("/metrics/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    labels = 'method="GET",route="items/<int:pk>/",status="2xx"'
    line = "perfsuite_http_request_seconds_count{" + labels + "} 3.0"
    assert line in text
    assert 'le="0.010' in text and 'le="+Inf"' in text  # 0.01 moved up to a bucket edge
    assert "# TYPE perfsuite_http_request_seconds histogram" in text
    assert 'route="metrics/"' not in text, "the scrape counted itself as a request"
    assert response["Cache-Control"].startswith("max-age=0")


def test_prometheus_bearer_token_and_allowed_ips(client: Client) -> None:
    with override_settings(PERFSUITE={"PROMETHEUS_TOKEN": "s3cret"}):
        assert client.get("/metrics/", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
        assert client.get("/metrics/", HTTP_AUTHORIZATION="Bearer wrong").status_code == 302
        assert client.get("/metrics/", HTTP_AUTHORIZATION="Basic s3cret").status_code == 302
    with override_settings(PERFSUITE={"PROMETHEUS_ALLOWED_IPS": ["10.0.0.0/8"]}):
        assert client.get("/metrics/", REMOTE_ADDR="10.1.2.3").status_code == 200
        assert client.get("/metrics/", REMOTE_ADDR="192.0.2.1").status_code == 302
        assert client.get("/metrics/", REMOTE_ADDR="not-an-ip").status_code == 302


@pytest.mark.redis
def test_prometheus_sums_every_process_on_the_redis_store(client: Client, redis_url: str) -> None:
    from perfsuite.core.metrics import Registry
    from perfsuite.core.sketch import Mapping
    from perfsuite.core.stores.redis import RedisStore

    with override_settings(PERFSUITE={"STORE": "redis", "REDIS_URL": redis_url}):
        client.get("/items/1/")  # this process
        other = Registry(store=RedisStore(Mapping(0.01), redis_url), autoflush=False)
        latency = other.histogram(
            "perfsuite_http_request_seconds", "", ("route", "method", "status")
        )
        for _ in range(4):  # another worker, flushed to the same Redis
            latency.labels("items/<int:pk>/", "GET", "2xx").observe(0.02)
        assert other.flush()
        client.force_login(permitted_staff())
        text = client.get("/metrics/").content.decode()
    labels = 'method="GET",route="items/<int:pk>/",status="2xx"'
    assert "perfsuite_http_request_seconds_count{" + labels + "} 5.0" in text


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exported_bucket_counts_are_exact_at_their_bounds(seed: int) -> None:
    """Values just below and above every bound: each ``le`` count is the exact number
    of observations <= le (a sketch representative was off by up to 0.9 %)."""
    import random

    from perfsuite.core.metrics import Registry
    from perfsuite.core.sketch import Mapping
    from perfsuite.core.stores.local import LocalStore
    from perfsuite.perf_monitor.prometheus import SnapshotCollector

    rng = random.Random(seed)
    registry = Registry(store=LocalStore(Mapping(0.01)), autoflush=False)
    latency = registry.histogram("edge_seconds")
    values = [0.00249, 0.0025, 0.002501, 0.0099, 0.01, 0.0101]
    for bound in (0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10.0):
        values += [bound * (1 + rng.uniform(-0.02, 0.02)) for _ in range(50)]
    values += [rng.lognormvariate(-4, 1.5) for _ in range(2000)]
    for value in values:
        latency.observe(value)
    registry.flush()
    from prometheus_client import CollectorRegistry, generate_latest

    exported = CollectorRegistry(auto_describe=False)
    exported.register(SnapshotCollector(registry.store.snapshot("all")))  # type: ignore[arg-type]
    family = _families(generate_latest(exported).decode())["edge_seconds"]
    checked = 0
    for sample in family.samples:  # type: ignore[attr-defined]
        if sample.name.endswith("_bucket") and sample.labels["le"] != "+Inf":
            le = float(sample.labels["le"])
            assert sample.value == sum(1 for v in values if v <= le), le
            checked += 1
    assert checked == 14


def test_gauges_are_per_process_never_summed() -> None:
    from perfsuite.core.series import GAUGE, SeriesId
    from perfsuite.core.sketch import Mapping
    from perfsuite.core.stores.base import Snapshot
    from perfsuite.perf_monitor.prometheus import SnapshotCollector

    start = SeriesId(GAUGE, "perfsuite_process_start_time", ())
    snap = Snapshot(window="all", mapping=Mapping(0.01))
    snap.gauges[start] = {f"web:{pid}": 1_700_000_000.0 + pid for pid in range(4)}
    from prometheus_client import CollectorRegistry, generate_latest

    exported = CollectorRegistry(auto_describe=False)
    exported.register(SnapshotCollector(snap))  # type: ignore[arg-type]
    family = _families(generate_latest(exported).decode())["perfsuite_process_start_time"]
    samples = family.samples  # type: ignore[attr-defined]
    assert len(samples) == 4
    assert {s.labels["process"] for s in samples} == {f"web:{pid}" for pid in range(4)}
    assert max(s.value for s in samples) < 1_800_000_000, "a start time in the future"


def test_memory_histograms_use_memory_sized_buckets(client: Client) -> None:
    from perfsuite.perf_monitor import metrics as recorder

    recorder.sampler.sample()
    client.force_login(permitted_staff())
    text = client.get("/metrics/").content.decode()
    family = _families(text)["perfsuite_process_rss_sample_bytes"]
    buckets = [s for s in family.samples if s.name.endswith("_bucket")]  # type: ignore[attr-defined]
    below_inf = [s for s in buckets if s.labels["le"] != "+Inf"]
    assert float(below_inf[0].labels["le"]) >= 32 * 2**20
    assert any(s.value >= 1 for s in below_inf), "every sample landed in +Inf"
    assert "perfsuite_process_rss_mb" not in text


def test_scrapes_are_not_requests_unless_asked(client: Client) -> None:
    client.force_login(permitted_staff())
    for _ in range(10):
        client.get("/metrics/")
    assert snapshot().histogram(LATENCY_NAME).count == 0
    with override_settings(PERFSUITE={"STORE": "local", "PROMETHEUS_COUNT_SCRAPES": True}):
        client.get("/metrics/")
        # read in the same settings: leaving them swaps the store (the flusher thread
        # may already have sent the scrape to the one being left)
        assert snapshot().histogram(LATENCY_NAME).count == 1
