"""The chart's axes: values in the metric's unit, times at round local times."""

import time
from datetime import datetime

import pytest

from infracast.clients.charts.axis import value_axis
from infracast.clients.charts.picture import time_ticks

GIB = 1024.0**3


@pytest.mark.parametrize(("metric", "counter_rate", "unit", "values", "label", "scaled"), [
    ("node_filesystem_avail_bytes", False, "", [120 * GIB, 80 * GIB], "GiB", 120.0),
    ("node_memory_MemAvailable_bytes", False, "", [512 * 1024.0**2], "MiB", 512.0),
    ("node_network_receive_bytes_total", True, "", [3 * 1024.0**2], "MiB/s", 3.0),
    ("infracast_node_cpu_utilization_ratio", False, "", [0.25], "%", 25.0),
    ("node_boot_age_seconds", False, "", [2 * 86400.0], "days", 2.0),
    ("probe_duration_seconds", False, "", [90.0], "min", 1.5),
    ("node_cpu_seconds_total", True, "", [1.5], "seconds/s (cores)", 1.5),
    ("node_load1", False, "", [3.0], "load1", 3.0),
    # The answer's word on counters and the declared unit beat the name.
    ("node_vmstat_pgfault", True, "", [40.0], "pgfault/s", 40.0),
    ("app_cache_total", False, "bytes", [3 * GIB], "GiB", 3.0),
    ("app_busy", False, "ratio", [0.5], "%", 50.0),
    ("app_wait", True, "seconds", [0.5], "seconds/s (cores)", 0.5),
    ("app_power", False, "watts", [12.0], "watts", 12.0),
])
def test_values_are_shown_in_the_metric_unit(metric, counter_rate, unit, values, label, scaled):
    axis = value_axis(metric, values, counter_rate, unit)
    assert axis.label == label
    assert axis.scale(values)[0] == pytest.approx(scaled)


@pytest.fixture
def india_time(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # UTC+5:30: round local hours are not round UTC hours
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_time_ticks_fall_on_round_local_times(india_time):
    start = datetime(2026, 11, 30, 10, 7).timestamp()  # local time
    positions, labels = time_ticks(start, start + 6 * 3600)
    assert labels[0] == "11:00" and len(labels) >= 3
    assert all(datetime.fromtimestamp(p).minute == 0 for p in positions)
    assert all(datetime.fromtimestamp(p).strftime("%H:%M") == label for p, label in zip(positions, labels,
                                                                                        strict=True))
    _, days = time_ticks(start, start + 3 * 86400)
    assert days[0].split()[0] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
