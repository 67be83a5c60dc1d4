"""Forecasts as metrics: the shipped forecast rules evaluated by infracast (store=prometheus)
into series on /metrics and remote-written to the real Prometheus, where the shipped
alerting rule fires for a filling disk and stays quiet for a steady one."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from infracast.clients.testing import running_server
from infracast.server.config import ServerConfig
from tests.conftest import wait_until
from tests.integration.feed import feed_series
from tests.tsdb_servers import start_prometheus

pytestmark = pytest.mark.slow
DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
GIB = 2**30


def alerts(url: str) -> list[dict]:
    with urllib.request.urlopen(f"{url}/api/v1/alerts", timeout=10) as reply:
        return json.load(reply)["data"]["alerts"]


def check_dashboard_queries(prometheus) -> None:
    """Every query of the shipped Grafana dashboard runs on Prometheus, and the time-to-full
    and probability panels show the filling disk."""
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    answers = {}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$instance", ".*").replace("$mountpoint", ".*")
            answers[(panel["title"], target["refId"])] = prometheus.query(expr)
    assert any(r["metric"].get("mountpoint") == "/data"
               for r in answers[("Time until full (expected)", "A")])
    assert any(r["metric"].get("mountpoint") == "/data"
               for r in answers[("Probability full within 4 h", "A")])


def test_a_filling_disk_fires_the_shipped_alert_and_a_steady_one_does_not(tmp_path):
    # The shipped alerting rules, with their `for:` waits cut so the test need not wait 15 min.
    alert_rules = tmp_path / "alerts.yaml"
    alert_rules.write_text((DEPLOY / "alerts.yaml").read_text()
                           .replace("for: 15m", "for: 0s").replace("for: 1h", "for: 0s"))
    prometheus = start_prometheus(tmp_path, rule_files=[alert_rules])
    config = ServerConfig(listen="127.0.0.1:0", grace_period_s=1.0, rate_limit=0.0, forecast_workers=2,
                          store="prometheus", prometheus_url=prometheus.url, prometheus_step_s=10.0,
                          rules_file=DEPLOY / "infracast-rules.yaml", rules_interval_s=1.0,
                          metrics_listen="127.0.0.1:0", replica_name="replica-a")
    try:
        with running_server(config) as server:
            # 40 minutes of history every 10 s, written through infracast's own ingest.
            now_ms = int(time.time() * 1000)
            times = np.arange(now_ms - 2400_000, now_ms, 10_000)
            labels = {"device": "/dev/sdb", "fstype": "ext4"}
            filling = np.linspace(100 * GIB, 12 * GIB, len(times))  # ~5 minutes of space left
            for mountpoint, avail in (("/data", filling), ("/steady", np.full(len(times), 60 * GIB))):
                series = {**labels, "mountpoint": mountpoint}
                feed_series(server.address, "disk-node", "node_filesystem_size_bytes", series, times,
                            np.full(len(times), 100 * GIB))
                feed_series(server.address, "disk-node", "node_filesystem_avail_bytes", series, times, avail)

            def firing():
                return [a for a in alerts(prometheus.url)
                        if a["labels"]["alertname"] == "InfracastFilesystemPredictedFull"
                        and a["state"] == "firing"]

            (alert,) = wait_until(firing, timeout_s=90, interval_s=0.5, message="the alert firing")
            assert alert["labels"]["mountpoint"] == "/data" and alert["labels"]["node"] == "disk-node"

            # The series behind it, in the TSDB (remote-written) and on /metrics (scraped). A rule round
            # may have run between feeding /data and /steady, so wait for a round that saw both.
            def remaining_by_mountpoint():
                found = {r["metric"]["mountpoint"]: float(r["value"][1]) for r in prometheus.query(
                    'infracast_time_to_threshold_seconds{rule="filesystem-full"}')}
                return found if {"/data", "/steady"} <= found.keys() else None

            remaining = wait_until(remaining_by_mountpoint, timeout_s=30, interval_s=0.5,
                                   message="time to threshold for both mountpoints in the TSDB")
            assert 0 < remaining["/data"] < 900 and remaining["/steady"] == float("inf")
            (steady,) = prometheus.query(
                'infracast_threshold_probability{rule="filesystem-full",within="4h",mountpoint="/steady"}')
            assert float(steady["value"][1]) < 0.5
            quantiles = {r["metric"]["quantile"]: float(r["value"][1]) for r in prometheus.query(
                'infracast_forecast{rule="filesystem-full",mountpoint="/steady",ahead="1h"}')}
            assert quantiles["0.1"] <= quantiles["0.5"] <= quantiles["0.9"]
            assert quantiles["0.5"] == pytest.approx(60 * GIB, rel=0.01)
            assert server.app is not None and server.app.metrics_port
            with urllib.request.urlopen(f"http://127.0.0.1:{server.app.metrics_port}/metrics") as reply:
                scraped = reply.read().decode()
            assert 'infracast_time_to_threshold_seconds{' in scraped and 'mountpoint="/data"' in scraped
            assert "infracast_rule_rounds_total" in scraped
            # Derived series are not the agents': only the 4 fed series count against the limits.
            assert server.app.store.series_count == 4 and server.app.store.node_series_count("disk-node") == 4
            check_dashboard_queries(prometheus)
        assert not any(a["labels"].get("mountpoint") == "/steady" for a in alerts(prometheus.url))
    finally:
        prometheus.daemon.stop()


def test_replicas_split_the_rules_series_and_the_survivor_takes_them_all(tmp_path):
    prometheus = start_prometheus(tmp_path)
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: disk, selector: node_filesystem_avail_bytes, horizon: 1h,\n"
                     "     probability_within: [1h], forecast_at: [10m]}\n")

    def config(name: str) -> ServerConfig:
        return ServerConfig(listen="127.0.0.1:0", grace_period_s=1.0, rate_limit=0.0, forecast_workers=2,
                            store="prometheus", prometheus_url=prometheus.url, prometheus_step_s=10.0,
                            rules_file=rules, rules_interval_s=1.0, replica_name=name)

    def evaluated(server) -> set[str]:
        return {dict(s.labels)["mountpoint"] for s in server.app.rules.results.get("disk", [])
                if s.metric == "infracast_time_to_threshold_seconds"}

    mountpoints = {f"/m{i}" for i in range(8)}
    try:
        with running_server(config("replica-a")) as first:
            now_ms = int(time.time() * 1000)
            times = np.arange(now_ms - 600_000, now_ms, 10_000)
            for mountpoint in mountpoints:
                feed_series(first.address, "n1", "node_filesystem_avail_bytes", {"mountpoint": mountpoint},
                            times, np.linspace(50 * GIB, 40 * GIB, len(times)))
            wait_until(lambda: evaluated(first) == mountpoints, timeout_s=60, message="one replica: all")
            with running_server(config("replica-b")) as second:
                def split():
                    a, b = evaluated(first), evaluated(second)
                    return a and b and not (a & b) and a | b == mountpoints
                wait_until(split, timeout_s=60, interval_s=0.2, message="a disjoint split of the series")
            # replica-b is gone: once its heartbeat ages out, replica-a evaluates everything again.
            wait_until(lambda: evaluated(first) == mountpoints, timeout_s=60, message="the survivor: all")
    finally:
        prometheus.daemon.stop()


def test_rules_run_on_the_embedded_store_too_and_show_on_metrics(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: disk, selector: node_filesystem_avail_bytes, horizon: 1h,\n"
                     "     probability_within: [30m], forecast_at: [10m]}\n")
    config = ServerConfig(listen="127.0.0.1:0", grace_period_s=1.0, rate_limit=0.0, forecast_workers=2,
                          rules_file=rules, rules_interval_s=1.0, metrics_listen="127.0.0.1:0")
    with running_server(config) as server:
        now_ms = int(time.time() * 1000)
        times = np.arange(now_ms - 1200_000, now_ms, 10_000)
        feed_series(server.address, "n1", "node_filesystem_avail_bytes", {"mountpoint": "/"}, times,
                    np.linspace(20 * GIB, 2 * GIB, len(times)))  # 2 GiB left, 0.9 GiB a minute

        def scraped() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.app.metrics_port}/metrics") as reply:
                text = reply.read().decode()
            return "infracast_time_to_threshold_seconds{" in text and text

        text = wait_until(scraped, timeout_s=60, message="rule results on /metrics")
        (line,) = [x for x in text.splitlines() if x.startswith("infracast_time_to_threshold_seconds{")]
        assert 'mountpoint="/"' in line and 'node="n1"' in line and 'rule="disk"' in line
        assert 60 < float(line.rsplit(" ", 1)[1]) < 300  # ~2.2 minutes at the current pace
        assert 'infracast_threshold_probability{' in text and 'within="30m"' in text
