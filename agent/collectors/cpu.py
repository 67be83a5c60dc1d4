"""CPU time per mode (node_cpu_seconds_total) and overall utilisation."""

from __future__ import annotations

from types import ModuleType

import psutil

from infracast.agent.collectors.base import Sample

MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
IDLE_MODES = ("idle", "iowait")


def cpu_utilization(previous: dict[str, float], current: dict[str, float]) -> float | None:
    """Busy share of CPU time between two totals of seconds per mode; None if no time passed."""
    elapsed = sum(current.values()) - sum(previous.values())
    if elapsed <= 0:
        return None
    idle = sum(current.get(m, 0.0) - previous.get(m, 0.0) for m in IDLE_MODES)
    return min(max(1.0 - idle / elapsed, 0.0), 1.0)


class CpuCollector:
    name = "cpu"

    def __init__(self, ps: ModuleType = psutil) -> None:
        self.ps = ps
        self._previous_total: dict[str, float] | None = None

    def collect(self) -> list[Sample]:
        samples = []
        total: dict[str, float] = {}
        per_cpu = self.ps.cpu_times(percpu=True)
        for cpu, times in enumerate(per_cpu):
            for mode in MODES:
                seconds = getattr(times, mode, None)
                if seconds is None:
                    continue
                total[mode] = total.get(mode, 0.0) + seconds
                samples.append(
                    Sample("node_cpu_seconds_total", seconds, {"cpu": str(cpu), "mode": mode})
                )
        # No node_exporter counterpart: utilisation is derived here so it can be forecast as a gauge.
        if self._previous_total is not None:
            busy = cpu_utilization(self._previous_total, total)
            if busy is not None:
                samples.append(Sample("infracast_node_cpu_utilization_ratio", busy))
        self._previous_total = total
        samples.append(Sample("infracast_node_cpu_count", float(len(per_cpu))))
        return samples
