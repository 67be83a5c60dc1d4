"""Answers an operator can act on, through the real server and the CLI: fleet-wide questions,
thresholds relative to capacity, aggregates, physical limits, too little history."""

import json
import subprocess
import time

import numpy as np
import pytest

from infracast.clients.client import InfracastClient
from infracast.clients.errors import FailedPrecondition
from tests.conftest import executable
from tests.integration.feed import feed_series

NOW_MS = int(time.time() * 1000)
MINUTE = 60_000
HOUR = 60 * MINUTE
GiB = 2.0**30
SIZE = 100 * GiB
# Hours until each node's root file system is full (None: it is not filling).
FULL_IN = {"f1": 3.0, "f2": 12.0, "f3": None, "f4": None, "f6": 40.0}


def cli(server, *args):
    return subprocess.run([executable("infracast"), "--server", server.address, *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def fleet(server):
    """Six hours of 1-minute samples per node; f5 has just joined (3 samples)."""
    times = NOW_MS - MINUTE * np.arange(361)[::-1]
    rng = np.random.default_rng(8)
    labels = {"mountpoint": "/", "device": "vda1"}
    for node, hours in FULL_IN.items():
        if hours is None:
            avail = 0.4 * SIZE + rng.normal(0, 0.001 * SIZE, len(times))
        else:
            rate = 0.3 * SIZE / (hours * HOUR)  # 30 % of the disk left at the last sample
            avail = 0.3 * SIZE + rate * (times[-1] - times) + rng.normal(0, 0.0005 * SIZE, len(times))
        feed_series(server.address, node, "node_filesystem_avail_bytes", labels, times, avail)
        feed_series(server.address, node, "node_filesystem_size_bytes", labels, times,
                    np.full(len(times), SIZE))
    feed_series(server.address, "f5", "node_filesystem_avail_bytes", labels, times[-3:], [SIZE / 2] * 3)
    return server


def test_which_file_systems_fill_within_a_day_in_one_call(fleet):
    with InfracastClient(fleet.address, timeout_s=120) as client:
        found = client.threshold_crossings("node_filesystem_avail_bytes", 0, falling=True, within="24h")
        assert [c.series.labels["node"] for c in found.crossings] == ["f1", "f2"]
        for crossing in found.crossings:
            hours = FULL_IN[crossing.series.labels["node"]]
            assert abs(crossing.time_remaining_s / 3600 - hours) < 0.1 * hours
            assert crossing.probability > 0.9
        assert found.examined == 6 and found.next_page_token == ""
        assert [str(s) for s, _ in found.skipped] == [
            'node_filesystem_avail_bytes{device="vda1",mountpoint="/",node="f5"}']
        assert "not enough history" in found.skipped[0][1]

        first = client.threshold_crossings("node_filesystem_avail_bytes", 0, falling=True, within="24h",
                                           page_size=1)
        second = client.threshold_crossings("node_filesystem_avail_bytes", 0, falling=True, within="24h",
                                            page_size=1, page_token=first.next_page_token)
        assert [c.series.labels["node"] for c in first.crossings + second.crossings] == ["f1", "f2"]
        assert first.next_page_token and not second.next_page_token


def test_thresholds_relative_to_capacity(fleet):
    """Below 10 % of the disk's size (10 GiB): f1 gets there 2/3 of the way to full."""
    with InfracastClient(fleet.address, timeout_s=120) as client:
        crossing = client.time_to_threshold('node_filesystem_avail_bytes{node="f1"}', "10%", falling=True)
        assert crossing.threshold == pytest.approx(0.1 * SIZE)
        assert abs(crossing.time_remaining_s / 3600 - 2.0) < 0.2
        assert crossing.limits.upper == SIZE
    table = cli(fleet, "when", "node_filesystem_avail_bytes", "--below", "10%", "--within", "24h")
    assert table.returncode == 0, table.stderr
    assert "2 of 6 series fall to 10% within 1d" in table.stdout
    lines = table.stdout.splitlines()
    assert next(i for i, line in enumerate(lines) if 'node="f1"' in line) < next(
        i for i, line in enumerate(lines) if 'node="f2"' in line)
    assert "1 series not judged" in table.stdout
    bare = cli(fleet, "when", 'node_load1{node="x"}', "--below", "10%")
    assert bare.returncode == 1


def test_an_aggregate_is_forecast_as_one_series_within_the_sum_of_limits(fleet):
    with InfracastClient(fleet.address, timeout_s=120) as client:
        total = client.forecast('node_filesystem_avail_bytes{node=~"f[1-4]"}', "1h", aggregate="sum")
        assert total.series.metric == "sum(node_filesystem_avail_bytes)"
        assert total.series.labels == {"device": "vda1", "mountpoint": "/"}
        assert total.last_value == pytest.approx(1.4 * SIZE, rel=0.01)
        assert total.limits.upper == pytest.approx(4 * SIZE)
        assert total.mean[-1] < total.last_value  # two of the four are filling
        # f1 and f2 together: 60 GiB free, 12.5 GiB less an hour; 10 % of their 200 GiB in 3.2 h.
        both = client.time_to_threshold('node_filesystem_avail_bytes{node=~"f[12]"}', "10%", falling=True,
                                        aggregate="sum", horizon="1d")
        assert both.threshold == pytest.approx(0.1 * 2 * SIZE)
        assert abs(both.time_remaining_s / 3600 - 3.2) < 0.3


def test_forecasts_stay_inside_physical_limits_and_say_so(server):
    times = NOW_MS - MINUTE * np.arange(361)[::-1]
    total = 24 * GiB
    rising = 10 * GiB + 2 * GiB * (times - times[0]) / HOUR  # 22 GiB now, 2 GiB more an hour
    feed_series(server.address, "m1", "node_memory_MemAvailable_bytes", {}, times, rising)
    feed_series(server.address, "m1", "node_memory_MemTotal_bytes", {}, times, np.full(len(times), total))
    with InfracastClient(server.address, timeout_s=120) as client:
        f = client.forecast('node_memory_MemAvailable_bytes{node="m1"}', "1d")
    assert f.limits.applied and f.limits.upper == total
    assert "MemTotal" in f.limits.reason and "physical limits" in f.model.reason
    for path in (f.mean, *f.lower.values(), *f.upper.values()):
        assert path.max() <= total and path.min() >= 0


def test_too_little_history_is_an_explicit_answer(server):
    times = NOW_MS - 1000 * np.arange(75)[::-1]
    feed_series(server.address, "s1", "node_load1", {}, times, 1 + 0.02 * np.arange(75))
    feed_series(server.address, "s1", "node_load5", {}, times[-3:], [1.0, 1.1, 1.2])
    far = cli(server, "forecast", 'node_load1{node="s1"}', "--horizon", "6h")
    assert far.returncode == 1
    assert "6h ahead needs at least 1h 12m" in far.stderr and "1m 14s of history" in far.stderr
    near = json.loads(cli(server, "forecast", 'node_load1{node="s1"}', "--horizon", "5m", "--json").stdout)
    last = np.datetime64(near["last_timestamp"][:23])
    assert np.datetime64(near["timestamps"][-1][:23]) - last <= np.timedelta64(5 * 60 + 1, "s")
    few = cli(server, "when", 'node_load5{node="s1"}', "--above", "10")
    assert few.returncode == 1 and "not enough history" in few.stderr
    with InfracastClient(server.address) as client, pytest.raises(FailedPrecondition):
        client.time_to_threshold('node_load5{node="s1"}', 10.0)


def test_series_shows_a_counters_raw_value_without_a_rate_unit(server):
    times = NOW_MS - 10_000 * np.arange(10)[::-1]
    feed_series(server.address, "c1", "node_cpu_seconds_total", {"cpu": "0", "mode": "user"}, times,
                264.7 + np.arange(10.0))
    listed = cli(server, "series", 'node_cpu_seconds_total{node="c1"}')
    assert "273.7" in listed.stdout and "/s" not in listed.stdout


def test_a_series_too_young_to_see_that_far_is_said_to_be_unjudged_not_safe(fleet):
    """Twenty minutes of a steady disk cannot speak for the next 24 hours: it is listed among
    the skipped series with why, not silently counted as safe."""
    times = NOW_MS - MINUTE * np.arange(21)[::-1]
    feed_series(fleet.address, "young", "node_filesystem_avail_bytes", {"mountpoint": "/", "device": "vda1"},
                times, np.full(len(times), 0.5 * SIZE))
    with InfracastClient(fleet.address, timeout_s=120) as client:
        found = client.threshold_crossings("node_filesystem_avail_bytes", 0, falling=True, within="24h")
    reasons = {s.labels["node"]: why for s, why in found.skipped}
    assert "young" not in [c.series.labels["node"] for c in found.crossings]
    assert "of history lets it see no further" in reasons["young"]
    assert reasons.keys() == {"f5", "young"}  # the 6-hour series see 30 hours: judged
