"""The server's OpenTelemetry metrics, scraped in Prometheus text format from /metrics."""

import re
import socket
import time
import urllib.request

import numpy as np
import pytest

from infracast.clients.client import InfracastClient
from tests.conftest import ServerProcess
from tests.integration.feed import feed_series

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def value(text: str, pattern: str) -> float:
    found = re.search(rf"^{pattern} ([0-9.e+]+)$", text, re.MULTILINE)
    assert found, f"{pattern} not in:\n{text}"
    return float(found.group(1))


def test_metrics_count_ingest_forecasts_and_the_cache():
    port = free_port()
    server = ServerProcess("--metrics-listen", f"127.0.0.1:{port}")
    try:
        server.wait_ready()
        now = int(time.time() * 1000)
        feed_series(server.address, "m1", "node_load1", {}, now - 60_000 * np.arange(100)[::-1],
                    np.linspace(1, 2, 100))
        with InfracastClient(server.address) as client:
            client.forecast('node_load1{node="m1"}', "10m")
            client.forecast('node_load1{node="m1"}', "10m")  # answered from the cache
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    finally:
        server.stop()
    assert value(text, "infracast_ingest_samples_total") == 100
    assert value(text, "infracast_store_series") == 1
    assert value(text, r'infracast_forecast_cache_total\{result="hit"\}') == 1
    assert value(text, r'infracast_forecast_duration_seconds_count\{model="[a-z_]+"\}') == 2
