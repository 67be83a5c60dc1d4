"""CPU time per CPU and mode from /proc/stat (node_exporter's cpu collector), and overall
utilisation."""

from __future__ import annotations

import os

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept

# /proc/stat's columns after "cpuN", in order; guest time is also counted in user/nice.
MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
GUEST_MODES = ("user", "nice")  # columns guest, guest_nice
IDLE_MODES = ("idle", "iowait")
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def parse_cpu_times(stat: str, ticks_per_s: int = TICKS_PER_S) -> dict[str, list[float]]:
    """Seconds per column (MODES, then guest and guest_nice) for each "cpuN" line, by N."""
    per_cpu = {}
    for line in stat.splitlines():
        if line.startswith("cpu") and not line.startswith("cpu "):
            name, *columns = line.split()
            per_cpu[name[3:]] = [int(c) / ticks_per_s for c in columns[:10]]
    return per_cpu


def cpu_utilization(previous: dict[str, float], current: dict[str, float]) -> float | None:
    """Busy share of CPU time between two totals of seconds per mode; None if no time passed."""
    elapsed = sum(current.values()) - sum(previous.values())
    if elapsed <= 0:
        return None
    idle = sum(current.get(m, 0.0) - previous.get(m, 0.0) for m in IDLE_MODES)
    return min(max(1.0 - idle / elapsed, 0.0), 1.0)


class CpuCollector:
    name = "cpu"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths
        self._previous_total: dict[str, float] | None = None
        self._labels: dict[tuple[str, str], dict[str, str]] = {}  # made once, not per tick

    def _label(self, cpu: str, mode: str) -> dict[str, str]:
        labels = self._labels.get((cpu, mode))
        if labels is None:
            labels = self._labels[(cpu, mode)] = {"cpu": cpu, "mode": mode}
        return labels

    def collect(self) -> list[Sample]:
        per_cpu = parse_cpu_times(read_kept(self.paths.proc("stat")))
        samples = []
        total = dict.fromkeys(MODES, 0.0)
        for cpu, seconds in per_cpu.items():
            for mode, value in zip(MODES, seconds, strict=False):
                total[mode] += value
                samples.append(Sample("node_cpu_seconds_total", value, self._label(cpu, mode)))
            for mode, value in zip(GUEST_MODES, seconds[len(MODES):], strict=False):
                samples.append(Sample("node_cpu_guest_seconds_total", value, self._label(cpu, mode)))
        # No node_exporter counterpart: utilisation is derived here so it can be forecast as a gauge.
        if self._previous_total is not None:
            busy = cpu_utilization(self._previous_total, total)
            if busy is not None:
                samples.append(Sample("infracast_node_cpu_utilization_ratio", busy))
        self._previous_total = total
        samples.append(Sample("infracast_node_cpu_count", float(len(per_cpu))))
        return samples
