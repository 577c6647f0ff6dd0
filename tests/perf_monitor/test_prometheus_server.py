"""A real Prometheus server (Debian's) scraping gunicorn -w 4 on the Redis store reads
the same counts as the dashboard, exact bucket counts, and per-process gauges that
make sense (no start time in the future, no CPU over 100 % x cores per process)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, manage, seeded_demo, server_command
from tests.services import free_port, missing, wait_for_port

pytestmark = [pytest.mark.slow, pytest.mark.redis]
TOKEN = "scrape-token-0123456789"
FIRST, SECOND = 500, 100


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        missing("prometheus", "prometheus")
    return str(found)


def load(port: int, count: int) -> None:
    def get(_: int) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/products/", timeout=30) as r:
            r.read()
            return r.status

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(get, range(count))) == {200}


def wait_until_ready(port: int, seconds: float = 60) -> None:
    """Prometheus listens before its storage is ready (503 until then)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, "Prometheus never became ready"
        time.sleep(0.2)


def query(port: int, expr: str) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.loads(response.read())
    assert body["status"] == "success", body
    return body["data"]["result"]


def scrape_config(target: int, path: Path) -> Path:
    config = path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n"
        "  - job_name: perfsuite\n"
        "    metrics_path: /metrics/\n"
        "    authorization:\n"
        f"      credentials: {TOKEN}\n"
        "    static_configs:\n"
        f"      - targets: ['127.0.0.1:{target}']\n"
    )
    return config


def test_prometheus_reads_what_the_dashboard_reads(tmp_path: Path, redis_url: str) -> None:
    binary = prometheus_binary()
    env = seeded_demo(str(tmp_path), REDIS_URL=redis_url, PERFSUITE_PROMETHEUS_TOKEN=TOKEN)
    port, prom_port = free_port(), free_port()
    gunicorn = subprocess.Popen(
        server_command("gunicorn", port, workers=4),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    prometheus = None
    try:
        wait_for_port(port, timeout=30)
        load(port, FIRST)
        time.sleep(5.5)  # each worker samples its resources again: CPU over an interval
        load(port, SECOND)
        time.sleep(1.5)  # flushed
        prometheus = subprocess.Popen(
            [
                binary,
                f"--config.file={scrape_config(port, tmp_path)}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(prom_port, timeout=30)
        wait_until_ready(prom_port)
        expr = 'sum(perfsuite_http_request_seconds_count{route="products/"})'
        deadline = time.monotonic() + 30
        while not query(prom_port, expr):
            assert time.monotonic() < deadline, "Prometheus never scraped the site"
            time.sleep(0.5)
        time.sleep(2.5)  # a few scrapes: scrapes themselves must not count
        scraped = float(query(prom_port, expr)[0]["value"][1])
        stats = json.loads(manage("perfstats", "--json", "--window", "all", env=env).stdout)
        again = json.loads(manage("perfstats", "--json", "--window", "all", env=env).stdout)

        # the same count where users read it, and no scrape among them
        assert scraped == FIRST + SECOND
        assert stats["routes"]["products/"]["count"] == FIRST + SECOND
        assert "metrics/" not in stats["routes"]

        # readers are not processes of the site
        assert stats["processes"] == again["processes"] == 4

        # bucket counts: cumulative, and +Inf is the count
        buckets = query(
            prom_port, 'sum by (le) (perfsuite_http_request_seconds_bucket{route="products/"})'
        )
        by_le = sorted((float(b["metric"]["le"]), float(b["value"][1])) for b in buckets)
        counts = [count for _le, count in by_le]
        assert counts == sorted(counts) and counts[-1] == FIRST + SECOND

        # gauges: one series per process, each true
        starts = query(prom_port, "perfsuite_process_start_time")
        assert len({s["metric"]["process"] for s in starts}) == 4
        now = time.time()
        assert all(now - 3600 < float(s["value"][1]) <= now for s in starts)
        cores = os.cpu_count() or 1
        cpus = query(prom_port, "perfsuite_process_cpu_percent")
        assert cpus and all(0 <= float(c["value"][1]) <= 100 * cores for c in cpus)
        assert stats["cpu_usage"] <= 100 * cores * 4
        rss = query(prom_port, "perfsuite_process_rss_bytes")
        total_mb = sum(float(r["value"][1]) for r in rss) / 1024 / 1024
        assert stats["memory_usage"] == pytest.approx(total_mb, rel=0.25)
        assert stats["memory_largest_process"] <= stats["memory_usage"]
        assert stats["resource_processes"] == 4
    finally:
        if prometheus is not None:
            prometheus.send_signal(signal.SIGTERM)
            prometheus.wait(timeout=30)
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=60)


def test_the_exposition_passes_promtool(client: Any) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        missing("promtool", "prometheus")
    from django.test import override_settings

    from perfsuite.perf_monitor import metrics as recorder
    from perfsuite.perf_monitor.prometheus import exposition

    with override_settings(ROOT_URLCONF="tests.perf_monitor.urls"):
        for _ in range(5):
            client.get("/ok/")
        recorder.sampler.sample()
        body, _type = exposition()
    result = subprocess.run(
        [str(promtool), "check", "metrics"], input=body, capture_output=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
