"""store=prometheus against the real servers: node_exporter's series scraped by Prometheus
are forecast through infracast with no agent at all, read back by PromQL; the per-replica
window cache."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from infracast.clients.client import InfracastClient
from infracast.clients.testing import running_server
from infracast.server.config import ServerConfig
from infracast.server.series import SeriesKey
from infracast.server.store.base import SeriesWrite
from infracast.server.store.prometheus import PrometheusStore, PromQLReach
from infracast.server.store.tsdb_http import TsdbEndpoint, TsdbHttp
from tests.conftest import wait_until
from tests.tsdb_servers import start_node_exporter, start_prometheus

pytestmark = pytest.mark.slow


def prometheus_config(url: str, **extra) -> ServerConfig:
    return ServerConfig(listen="127.0.0.1:0", grace_period_s=1.0, rate_limit=0.0, forecast_workers=2,
                        store="prometheus", prometheus_url=url, prometheus_step_s=1.0, **extra)


@pytest.fixture
def scraped_node_exporter(tmp_path):
    exporter, address = start_node_exporter(tmp_path)
    try:
        prometheus = start_prometheus(tmp_path, scrape_targets=[address])
        try:
            yield prometheus, address
        finally:
            prometheus.daemon.stop()
    finally:
        exporter.stop()


def test_node_exporter_series_are_forecast_with_no_agent(scraped_node_exporter):
    prometheus, exporter_address = scraped_node_exporter
    with running_server(prometheus_config(prometheus.url)) as server, \
            InfracastClient(server.address, timeout_s=30) as client:
        def enough_history():
            series, _ = client.list_series("node_memory_MemAvailable_bytes")
            return series and series[0].sample_count >= 12 and series

        (memory,) = wait_until(enough_history, timeout_s=60, message="12 scraped MemAvailable points")
        # Prometheus' own labels, as node-mixin users know them: no `node` label invented.
        assert memory.series.labels == {"instance": exporter_address, "job": "node"}
        (held,) = prometheus.query("node_memory_MemAvailable_bytes")
        assert memory.last_value == pytest.approx(float(held["value"][1]), rel=0.2)

        selector = f'node_memory_MemAvailable_bytes{{instance="{exporter_address}",job=~"no.e"}}'
        forecast = client.forecast(selector, "10s")
        assert forecast.series.labels["instance"] == exporter_address
        assert len(forecast.mean) >= 1 and forecast.step_s == 1.0
        # MemTotal, a sibling series in the TSDB, bounds MemAvailable as it does for agents.
        (total,) = prometheus.query("node_memory_MemTotal_bytes")
        assert forecast.limits.upper == pytest.approx(float(total["value"][1]))

        anomalies = client.detect_anomalies(selector, "10s")
        assert anomalies.series.labels["instance"] == exporter_address and len(anomalies.scores) >= 1

        roots = client.list_series('node_filesystem_avail_bytes{mountpoint="/"}')[0]
        assert roots, "node_exporter reports the root file system"
        crossing = client.time_to_threshold(
            f'node_filesystem_avail_bytes{{mountpoint="/",instance="{exporter_address}"}}', "10%",
            falling=True, horizon="30s")
        assert crossing.series.labels["job"] == "node"
        assert crossing.threshold > 0  # 10 % of node_filesystem_size_bytes, read from Prometheus

        # A selector PromQL would refuse alone (it matches the empty string) still works.
        everything, _ = client.list_series('{job!="nothing"}', limit=5000)
        assert {s.series.labels.get("job") for s in everything} >= {"node"}
        assert {"instance", "job", "mountpoint"} <= set(server.app.store.labels())  # /api/v1/labels
        _, store_detail = client.status().components["store"]
        assert "Prometheus-compatible TSDB" in store_detail and "from the cache" in store_detail
        with pytest.raises(Exception, match="no series matches"):
            client.forecast('node_memory_MemAvailable_bytes{instance="elsewhere:9100"}', "10s")


def test_the_window_cache_reads_only_what_is_new_and_agrees_with_a_fresh_read(tmp_path):
    prometheus = start_prometheus(tmp_path)
    try:
        now_s = time.time()
        clock = [now_s]
        http = TsdbHttp(TsdbEndpoint(prometheus.url))
        reach = PromQLReach(step_ms=1000, raw_window_ms=600_000, retention_ms=3_600_000)
        store = PrometheusStore(http, reach, clock=lambda: clock[0])
        key = SeriesKey.of("cache_probe", {"node": "n1"})
        start_ms = int(now_s * 1000) - 60_000

        def write(first_ms: int, count: int) -> None:
            times = np.arange(first_ms, first_ms + count * 1000, 1000, dtype=np.int64)
            assert asyncio.run(store.append([SeriesWrite(key, times, times / 1000.0)])).stored == count

        write(start_ms, 60)
        first = store.window(key)
        assert store.cache_stats.full_reads == 1 and len(first.timestamps_ms) >= 59
        again = store.window(key)  # within one step: no request at all
        assert store.cache_stats.hits == 1
        np.testing.assert_array_equal(again.values, first.values)

        write(start_ms + 60_000, 10)  # ten more seconds
        clock[0] = now_s + 10.5
        tail = store.window(key)
        assert store.cache_stats.tail_reads == 1
        fresh = PrometheusStore(http, reach, cache_series=0, clock=lambda: clock[0]).window(key)
        np.testing.assert_array_equal(tail.timestamps_ms, fresh.timestamps_ms)
        np.testing.assert_array_equal(tail.values, fresh.values)
        assert len(tail.timestamps_ms) >= len(first.timestamps_ms) + 9

        clock[0] = now_s + 301  # the older part is read again every 5 minutes
        store.window(key)
        assert store.cache_stats.full_reads == 2
    finally:
        prometheus.daemon.stop()
