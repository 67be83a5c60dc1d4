"""The whole path with real processes: infracast-agent -> gRPC -> infracast-server -> client."""

import re
import signal
import subprocess

import pytest

from infracast.clients.client import InfracastClient
from tests.conftest import executable, wait_until

pytestmark = pytest.mark.slow


def test_agent_streams_and_the_server_forecasts(server_process):
    agent = subprocess.Popen(
        [executable("infracast-agent"), "--server", server_process.address, "--node", "e2e-node",
         "--interval", "200ms"],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        with InfracastClient(server_process.address, timeout_s=30) as client:
            def enough_samples():
                series, _ = client.list_series('node_memory_MemAvailable_bytes{node="e2e-node"}')
                return series and series[0].sample_count >= 30 and series

            (memory,) = wait_until(enough_samples, timeout_s=60, message="30 memory samples")
            assert memory.series.labels == {"node": "e2e-node"}

            # 30 samples at 200 ms: 6 s of history see at most 30 s ahead.
            forecast = client.forecast('node_memory_MemAvailable_bytes{node="e2e-node"}', "20s")
            assert len(forecast.mean) >= 1 and forecast.model.name
            assert (forecast.lower[80.0] <= forecast.upper[80.0]).all()
            last_ms = int(forecast.last_timestamp.timestamp() * 1000)
            assert forecast.timestamps[0].astype("int64") > last_ms

            # Counters come back as rates: bytes received per second is never negative here.
            rate = client.forecast('node_network_receive_bytes_total{node="e2e-node",device="lo"}', "10s")
            assert rate.model.rate_of_counter and rate.last_value >= 0

            root = client.list_series('node_filesystem_size_bytes{node="e2e-node"}')[0][0]
            mountpoint = root.series.labels["mountpoint"]
            selector = f'node_filesystem_avail_bytes{{node="e2e-node",mountpoint="{mountpoint}"}}'
            crossing = client.time_to_threshold(selector, 0.0, falling=True, horizon="1d")
            assert crossing.series.labels["node"] == "e2e-node"
            assert crossing.horizon_s == 86400
            assert crossing.reach_limited and crossing.searched_s < 600  # seconds of history, not a day
            if crossing.will_cross:
                assert crossing.time_remaining_s > 0
            full = client.time_to_threshold(selector, root.last_value * 2, falling=True)
            assert full.already_crossed  # available space is below twice the size already
    finally:
        agent.send_signal(signal.SIGINT)
        assert agent.wait(30) == 0, agent.stderr.read()
        agent.stderr.close()
    assert server_process.stop() == 0
    assert any("stopped" in line for line in server_process.log)


def test_the_kernel_warm_up_shows_its_progress_in_the_log(server_process):
    # Every start logs each warm-up step (a first start compiles for half a minute or more;
    # the cached start here is quick, but says the same steps).
    log = "".join(server_process.log)
    steps = re.findall(r"warming up forecast kernels: (\d)/(\d) steps done, now ([a-z -]+)", log)
    assert [int(done) for done, _, _ in steps] == list(range(8)), log
    assert re.search(r"forecast kernels ready: 8/8 steps in \d+\.\ds", log), log
    assert log.index("forecast kernels ready") < log.index("server ready")
