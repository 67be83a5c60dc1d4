"""Every /proc/meminfo field as node_exporter's meminfo collector names it
(node_memory_<Field>_bytes, "Active(anon)" -> Active_anon; fields without a unit, like
HugePages_Total, keep no _bytes suffix), and infracast_node_memory_used_bytes =
MemTotal - MemAvailable, the series to compare with a node's allocatable memory."""

from __future__ import annotations

import re

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept

PARENTHESES = re.compile(r"\((.*)\)")


def metric_name(field: str, has_unit: bool) -> str:
    """ "Active(anon):" -> node_memory_Active_anon_bytes ("kB" is the only unit meminfo uses)."""
    return "node_memory_" + PARENTHESES.sub(r"_\1", field[:-1]) + ("_bytes" if has_unit else "")


def parse_meminfo(meminfo: str, names: dict[tuple[str, bool], str] | None = None) -> dict[str, float]:
    """node_exporter's metric name -> value (kB fields in bytes); `names` caches the metric
    name of each field (the same fields come back every collection)."""
    names = {} if names is None else names
    found = {}
    for line in meminfo.splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[0].endswith(":"):
            continue
        has_unit = len(parts) == 3
        name = names.get((parts[0], has_unit))
        if name is None:
            name = names[(parts[0], has_unit)] = metric_name(parts[0], has_unit)
        found[name] = float(parts[1]) * 1024 if has_unit else float(parts[1])
    return found


class MemoryCollector:
    name = "meminfo"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths
        self._names: dict[tuple[str, bool], str] = {}

    def collect(self) -> list[Sample]:
        fields = parse_meminfo(read_kept(self.paths.proc("meminfo")), self._names)
        samples = [Sample(metric, value) for metric, value in fields.items()]
        total = fields.get("node_memory_MemTotal_bytes")
        available = fields.get("node_memory_MemAvailable_bytes")
        if total is not None and available is not None:
            samples.append(Sample("infracast_node_memory_used_bytes", total - available))
        return samples
