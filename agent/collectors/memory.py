"""Every /proc/meminfo field as node_exporter's meminfo collector names it
(node_memory_<Field>_bytes, "Active(anon)" -> Active_anon; fields without a unit, like
HugePages_Total, keep no _bytes suffix), and infracast_node_memory_used_bytes =
MemTotal - MemAvailable, the series to compare with a node's allocatable memory."""

from __future__ import annotations

import re

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_text

PARENTHESES = re.compile(r"\((.*)\)")


def parse_meminfo(meminfo: str) -> dict[str, float]:
    """node_exporter's metric name -> value (kB fields in bytes)."""
    found = {}
    for line in meminfo.splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[0].endswith(":"):
            continue
        key = PARENTHESES.sub(r"_\1", parts[0][:-1])
        value = float(parts[1])
        if len(parts) == 3:  # "kB": the only unit meminfo uses
            value *= 1024
            key += "_bytes"
        found["node_memory_" + key] = value
    return found


class MemoryCollector:
    name = "meminfo"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        fields = parse_meminfo(read_text(self.paths.proc("meminfo")))
        samples = [Sample(metric, value) for metric, value in fields.items()]
        total = fields.get("node_memory_MemTotal_bytes")
        available = fields.get("node_memory_MemAvailable_bytes")
        if total is not None and available is not None:
            samples.append(Sample("infracast_node_memory_used_bytes", total - available))
        return samples
