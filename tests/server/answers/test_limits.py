import math

import numpy as np

from infracast.server.answers.limits import physical_limits
from infracast.server.answers.outlook import outlook_of_samples
from infracast.server.metadata.descriptors import COUNTER, GAUGE, MetricDescriptor
from infracast.server.series import SeriesKey

NODE = {"node": "n1"}


def lookup_from(values: dict[SeriesKey, float]):
    return values.get


def bounds(metric: str, labels=NODE) -> tuple[float, float]:
    limits = physical_limits(SeriesKey.of(metric, labels), lookup_from({}))
    return limits.lower, limits.upper


def test_limits_follow_the_meaning_of_the_metric():
    assert bounds("infracast_node_cpu_utilization_ratio") == (0, 1)
    assert bounds("node_network_receive_bytes_total") == (0, math.inf)
    assert bounds("node_load1") == (0, math.inf)
    assert bounds("some_temperature_celsius") == (-math.inf, math.inf)


def test_declared_type_and_unit_bound_what_the_name_does_not_say():
    def declared(metric, kind, unit):
        limits = physical_limits(SeriesKey.of(metric, NODE), lookup_from({}), None,
                                 MetricDescriptor(metric, kind, unit, ""))
        return limits.lower, limits.upper, limits.why

    assert declared("disk_busy", GAUGE, "ratio") == (0, 1, "a ratio lies in [0, 1]")
    assert declared("heap_in_use", GAUGE, "bytes") == (
        0, math.inf, "the value is an amount of bytes, never negative")
    assert declared("node_vmstat_pgfault", COUNTER, "") == (0, math.inf, "a counter's rate is never negative")
    # Without descriptors these names say nothing: unbounded.
    for metric in ("disk_busy", "heap_in_use", "node_vmstat_pgfault"):
        assert bounds(metric) == (-math.inf, math.inf)
    # A gauge declared so is not a counter, whatever its suffix.
    assert declared("queue_depth_total", GAUGE, "")[:2] == (-math.inf, math.inf)


def test_capacity_comes_from_the_sibling_series():
    fs = {"node": "n1", "mountpoint": "/", "device": "vda1"}
    size = SeriesKey.of("node_filesystem_size_bytes", fs)
    total = SeriesKey.of("node_memory_MemTotal_bytes", NODE)
    lookup = lookup_from({size: 300e6, total: 24e9})
    avail = physical_limits(SeriesKey.of("node_filesystem_avail_bytes", fs), lookup)
    assert (avail.lower, avail.upper) == (0.0, 300e6) and "node_filesystem_size_bytes" in avail.why
    memory = physical_limits(SeriesKey.of("node_memory_MemAvailable_bytes", NODE), lookup)
    assert memory.upper == 24e9
    other_mount = physical_limits(SeriesKey.of("node_filesystem_avail_bytes", {**fs, "mountpoint": "/x"}),
                                  lookup)
    assert other_mount.upper == math.inf  # no size known for that file system


def test_cpu_seconds_per_second_are_bounded_by_the_cpus():
    none = lookup_from({})
    per_cpu = physical_limits(SeriesKey.of("node_cpu_seconds_total", {"cpu": "0", "mode": "user"}), none)
    assert per_cpu.upper == 1.0
    node = physical_limits(SeriesKey.of("node_cpu_seconds_total", {"node": "n1", "mode": "user"}), none,
                           cpu_count=8)
    assert node.upper == 8.0


def test_a_rising_memory_forecast_never_exceeds_the_memory_there_is():
    """A day ahead from a rising trend would exceed 24 GiB; the answer stops at MemTotal and says so."""
    total = 24 * 2**30
    key = SeriesKey.of("node_memory_MemAvailable_bytes", NODE)
    limits = physical_limits(key, lookup_from({SeriesKey.of("node_memory_MemTotal_bytes", NODE): total}))
    times = np.arange(0, 12 * 3_600_000, 60_000)
    rng = np.random.default_rng(4)
    values = 10 * 2**30 + 0.5 * 2**30 * times / 3_600_000 + rng.normal(0, 2**26, len(times))
    outlook = outlook_of_samples(times, values, 24 * 3_600_000, (80.0, 95.0), limits)
    assert outlook.limits_applied
    for bound in (outlook.mean, *outlook.lower.values(), *outlook.upper.values()):
        assert bound.max() <= total and bound.min() >= 0
    assert outlook.raw_upper[95.0].max() > total  # the distribution itself is not clipped
    assert "MemTotal" in outlook.model.reason


def test_saturation_signals_are_measured_against_their_limits():
    """File descriptors, conntrack entries and inodes have their limits as sibling series, so a
    threshold like "90 % of the maximum" resolves per node."""
    lookup = lookup_from({SeriesKey.of("node_filefd_maximum", NODE): 1e6,
                          SeriesKey.of("node_nf_conntrack_entries_limit", NODE): 262144.0,
                          SeriesKey.of("node_filesystem_files", {**NODE, "mountpoint": "/"}): 5e6})
    assert physical_limits(SeriesKey.of("node_filefd_allocated", NODE), lookup).upper == 1e6
    assert physical_limits(SeriesKey.of("node_nf_conntrack_entries", NODE), lookup).upper == 262144.0
    inodes = physical_limits(SeriesKey.of("node_filesystem_files_free", {**NODE, "mountpoint": "/"}), lookup)
    assert (inodes.lower, inodes.upper) == (0.0, 5e6)
