"""Per-CPU network receive processing from /proc/net/softnet_stat (node_softnet_*):
packets dropped because the backlog was full, and times the budget ran out."""

from __future__ import annotations

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept

# Hexadecimal columns 0, 1 and 2 of each CPU's line.
COLUMNS = ("node_softnet_processed_total", "node_softnet_dropped_total",
           "node_softnet_times_squeezed_total")


def parse_softnet(text: str) -> list[list[float]]:
    """Processed, dropped and squeezed counts, one list per CPU line in order."""
    return [[float(int(column, 16)) for column in line.split()[:3]] for line in text.splitlines()]


class SoftnetCollector:
    name = "softnet"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        samples = []
        for cpu, values in enumerate(parse_softnet(read_kept(self.paths.proc("net", "softnet_stat")))):
            labels = {"cpu": str(cpu)}
            samples += [Sample(metric, value, labels) for metric, value in zip(COLUMNS, values, strict=True)]
        return samples
