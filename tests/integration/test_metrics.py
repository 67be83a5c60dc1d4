"""The server's OpenTelemetry metrics, scraped in Prometheus text format from /metrics."""

import re
import time
import urllib.request

import numpy as np
import pytest

from infracast.clients.client import InfracastClient
from tests.conftest import ServerProcess, free_port
from tests.integration.feed import feed_series

pytestmark = pytest.mark.slow



def value(text: str, pattern: str) -> float:
    found = re.search(rf"^{pattern} ([0-9.e+]+)$", text, re.MULTILINE)
    assert found, f"{pattern} not in:\n{text}"
    return float(found.group(1))


def test_metrics_count_ingest_forecasts_and_the_cache(tmp_path):
    port = free_port()
    server = ServerProcess("--metrics-listen", f"127.0.0.1:{port}", "--data-dir", str(tmp_path))
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
    assert value(text, "infracast_store_size_bytes") > 0
    assert value(text, r'infracast_forecast_cache_total\{result="hit"\}') == 1
    assert value(text, r'infracast_forecast_duration_seconds_count\{model="[a-z_]+"\}') == 2


def test_logs_can_go_to_a_rotating_file_as_json(tmp_path):
    import json
    import subprocess

    from tests.conftest import executable, wait_until

    log_file = tmp_path / "server.log"
    process = subprocess.Popen([executable("infracast-server"), "--listen", f"127.0.0.1:{free_port()}",
                                "--log-file", str(log_file), "--log-format", "json"],
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: log_file.exists() and "server ready" in log_file.read_text(), timeout_s=60,
                   message="the ready line in the log file")
    finally:
        process.terminate()
        process.wait(30)
        assert process.stderr is not None
        assert process.stderr.read() == ""  # nothing went to stderr
        process.stderr.close()
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
