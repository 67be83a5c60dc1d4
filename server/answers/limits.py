"""What a metric can physically be: from its meaning and its sibling series, never from the user.

The meaning is the metric's descriptor where its sender declared one (type and unit), else
its name (the _total suffix for counters, the unit suffix such as _bytes or _ratio).
Bytes, counts and rates are never negative; ratios lie in [0, 1]; available or free
space is at most the size of its file system and available memory at most the
memory the node has (read from the sibling series with the same labels); one CPU
spends at most one CPU-second per second, a node at most as many as it has CPUs.
Capacities are also what relative thresholds ("below 10 % of size") are taken of.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from infracast.server.metadata.descriptors import MetricDescriptor, is_counter
from infracast.server.series import SeriesKey

# Series whose value is part of a capacity held in a sibling series with the same labels.
CAPACITY_OF = {
    "node_filesystem_avail_bytes": "node_filesystem_size_bytes",
    "node_filesystem_free_bytes": "node_filesystem_size_bytes",
    "infracast_node_filesystem_used_bytes": "node_filesystem_size_bytes",
    "node_filesystem_files_free": "node_filesystem_files",
    "node_memory_MemAvailable_bytes": "node_memory_MemTotal_bytes",
    "node_memory_MemFree_bytes": "node_memory_MemTotal_bytes",
    "node_memory_Cached_bytes": "node_memory_MemTotal_bytes",
    "node_memory_Buffers_bytes": "node_memory_MemTotal_bytes",
    "node_memory_Shmem_bytes": "node_memory_MemTotal_bytes",
    "infracast_node_memory_used_bytes": "node_memory_MemTotal_bytes",
    "node_memory_SwapFree_bytes": "node_memory_SwapTotal_bytes",
    "node_filefd_allocated": "node_filefd_maximum",
    "node_nf_conntrack_entries": "node_nf_conntrack_entries_limit",
}
CPU_SECONDS = "node_cpu_seconds_total"
CPU_COUNT = "infracast_node_cpu_count"
# Gauges that count things or measure amounts: never below zero.
NON_NEGATIVE_SUFFIXES = ("_bytes", "_seconds", "_count", "_files", "_files_free", "_pids", "_threads",
                         "_entries", "_limit", "_allocated", "_maximum")
NON_NEGATIVE_PREFIXES = ("node_load", "node_procs_", "node_processes_", "node_pressure_")
# Declared units of amounts that are never negative, whatever the metric is named.
NON_NEGATIVE_UNITS = frozenset({"bytes", "seconds", "hertz", "joules", "watts", "packets", "pages"})

SiblingLookup = Callable[[SeriesKey], float | None]  # a sibling series' last value, None if unknown


@dataclass(frozen=True)
class Limits:
    lower: float = -math.inf
    upper: float = math.inf
    why: str = ""  # what the limits come from, in words; empty when there are none

    @property
    def bounded(self) -> bool:
        return self.lower > -math.inf or self.upper < math.inf


def sibling(key: SeriesKey, metric: str) -> SeriesKey:
    return SeriesKey(metric, key.flat_labels)


def capacity(key: SeriesKey, lookup: SiblingLookup) -> tuple[float, SeriesKey] | None:
    """The capacity this series is part of (its file system's size, its node's memory)."""
    metric = CAPACITY_OF.get(key.metric)
    if metric is None:
        return None
    total_key = sibling(key, metric)
    total = lookup(total_key)
    if total is None or not math.isfinite(total) or total <= 0:
        return None
    return total, total_key


def physical_limits(key: SeriesKey, lookup: SiblingLookup, cpu_count: int | None = None,
                    descriptor: MetricDescriptor | None = None) -> Limits:
    """Limits of the forecast values of `key` (for a counter: of its per-second rate);
    `descriptor` is its metric's declared meaning, None when nobody described it."""
    metric = key.metric
    counter = is_counter(metric, descriptor)
    unit = descriptor.unit if descriptor is not None else ""
    if not counter and (unit == "ratio" or metric.endswith("_ratio")):
        return Limits(0.0, 1.0, "a ratio lies in [0, 1]")
    if metric == CPU_SECONDS:
        if "cpu" in key.label_map:
            return Limits(0.0, 1.0, "one CPU spends at most one CPU-second per second")
        if cpu_count:
            return Limits(0.0, float(cpu_count), f"the node has {cpu_count} CPUs")
        return Limits(0.0, math.inf, "a counter's rate is never negative")
    found = capacity(key, lookup)
    if found is not None:
        total, total_key = found
        return Limits(0.0, total, f"between 0 and {total_key}")
    if counter:
        return Limits(0.0, math.inf, "a counter's rate is never negative")
    if unit in NON_NEGATIVE_UNITS:
        return Limits(0.0, math.inf, f"the value is an amount of {unit}, never negative")
    if metric.endswith(NON_NEGATIVE_SUFFIXES) or metric.startswith(NON_NEGATIVE_PREFIXES):
        return Limits(0.0, math.inf, "the value is an amount, never negative")
    return Limits()
