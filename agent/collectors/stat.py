"""Kernel counters from /proc/stat (node_exporter's stat collector): boot time, context
switches, forks, interrupts, runnable and blocked processes."""

from __future__ import annotations

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept

METRICS = {
    "btime": "node_boot_time_seconds",
    "ctxt": "node_context_switches_total",
    "processes": "node_forks_total",
    "intr": "node_intr_total",  # the first number of the line is the total
    "procs_running": "node_procs_running",
    "procs_blocked": "node_procs_blocked",
}


def parse_stat(stat: str) -> dict[str, float]:
    """node_exporter's metric name -> value, for the lines of METRICS present."""
    found = {}
    for line in stat.splitlines():
        key, _, rest = line.partition(" ")
        metric = METRICS.get(key)
        if metric is not None:
            found[metric] = float(rest.split(None, 1)[0])
    return found


class StatCollector:
    name = "stat"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        return [Sample(metric, value)
                for metric, value in parse_stat(read_kept(self.paths.proc("stat"))).items()]
