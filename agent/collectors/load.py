"""Load averages from /proc/loadavg (node_load1, node_load5, node_load15)."""

from __future__ import annotations

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept


def parse_loadavg(loadavg: str) -> tuple[float, float, float]:
    one, five, fifteen = loadavg.split()[:3]
    return float(one), float(five), float(fifteen)


class LoadCollector:
    name = "loadavg"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        one, five, fifteen = parse_loadavg(read_kept(self.paths.proc("loadavg")))
        return [Sample("node_load1", one), Sample("node_load5", five), Sample("node_load15", fifteen)]
