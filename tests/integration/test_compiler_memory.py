"""After warm-up the server holds no compiler code, and no request brings it back.

Reads the real server process's /proc/<pid>/smaps. Loading a single cached kernel that
the warm-up missed reads ~10 MiB of LLVM's code back in (compiling one, far more), so a
request path the warm-up does not cover makes this test fail.
"""

import time
from pathlib import Path

import numpy as np
import pytest

from infracast.clients.client import InfracastClient
from infracast.server.forecast.compiler_memory import resident_compiler_bytes
from tests.conftest import ServerProcess
from tests.integration.feed import feed_series

MIB = 2**20


def test_compiler_code_is_released_after_warm_up_and_stays_out(tmp_path):
    server = ServerProcess("--data-dir", str(tmp_path))
    try:
        server.wait_ready()
        if any("compiler pages kept in memory" in line for line in server.log):
            pytest.skip("madvise is refused here (a seccomp profile without it)")
        smaps = Path(f"/proc/{server.process.pid}/smaps")
        after_warm_up = resident_compiler_bytes(smaps)
        assert after_warm_up < 8 * MIB, f"{after_warm_up / MIB:.1f} MiB of compiler code resident"

        now = int(time.time() * 1000)
        step = 300_000
        times = now - step * np.arange(3 * 288)[::-1]
        rng = np.random.default_rng(1)
        daily = 50 + 10 * np.sin(2 * np.pi * times / 86_400_000) + rng.normal(size=len(times))
        feed_series(server.address, "n1", "node_load1", {}, times, daily)
        feed_series(server.address, "n1", "node_network_receive_bytes_total", {"device": "eth0"},
                    times, np.cumsum(rng.uniform(0, 1e6, len(times))))
        feed_series(server.address, "n1", "node_filesystem_avail_bytes", {"mountpoint": "/"},
                    times, np.linspace(5e10, 1e10, len(times)))
        feed_series(server.address, "n2", "node_load1", {}, times[-12:], 1 + 0.1 * np.arange(12))
        with InfracastClient(server.address, timeout_s=60) as client:
            for selector in ('node_load1{node="n1"}', 'node_network_receive_bytes_total{node="n1"}',
                             'node_filesystem_avail_bytes{node="n1"}'):
                assert np.isfinite(client.forecast(selector, "6h").mean).all()
            # A short history (12 points: the short-history kernels) seen as far as it reaches.
            assert np.isfinite(client.forecast('node_load1{node="n2"}', "1h").mean).all()
            when = client.time_to_threshold('node_filesystem_avail_bytes{node="n1"}', 0, falling=True)
            assert when.will_cross
            client.detect_anomalies('node_load1{node="n1"}', "1h")
        grown = resident_compiler_bytes(smaps) - after_warm_up
        assert grown < 3 * MIB, f"requests read {grown / MIB:.1f} MiB of compiler code back in"
    finally:
        assert server.stop() == 0
