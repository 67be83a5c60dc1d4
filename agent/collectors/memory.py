"""Memory (node_memory_*_bytes, as node_exporter's meminfo collector names them), and
infracast_node_memory_used_bytes = MemTotal - MemAvailable, the series to compare with a
node's allocatable memory (what `MemTotal - MemAvailable` computes in PromQL)."""

from __future__ import annotations

from types import ModuleType

import psutil

from infracast.agent.collectors.base import Sample

FIELDS = {
    "total": "node_memory_MemTotal_bytes",
    "available": "node_memory_MemAvailable_bytes",
    "free": "node_memory_MemFree_bytes",
    "buffers": "node_memory_Buffers_bytes",
    "cached": "node_memory_Cached_bytes",
    "shared": "node_memory_Shmem_bytes",
}


class MemoryCollector:
    name = "memory"

    def __init__(self, ps: ModuleType = psutil) -> None:
        self.ps = ps

    def collect(self) -> list[Sample]:
        memory = self.ps.virtual_memory()
        samples = [
            Sample(metric, float(getattr(memory, attribute)))
            for attribute, metric in FIELDS.items()
            if hasattr(memory, attribute)
        ]
        samples.append(Sample("infracast_node_memory_used_bytes", float(memory.total - memory.available)))
        return samples
