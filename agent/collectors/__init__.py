"""One collector per metric family; `default_collectors` builds them all."""

from __future__ import annotations

from infracast.agent.collectors.base import Collector, Sample
from infracast.agent.collectors.cpu import CpuCollector
from infracast.agent.collectors.disk import DiskCollector
from infracast.agent.collectors.filesystem import FilesystemCollector
from infracast.agent.collectors.load import LoadCollector
from infracast.agent.collectors.memory import MemoryCollector
from infracast.agent.collectors.network import NetworkCollector
from infracast.agent.collectors.processes import ProcessesCollector
from infracast.agent.collectors.swap import SwapCollector

FAMILIES = {
    "cpu": CpuCollector,
    "memory": MemoryCollector,
    "swap": SwapCollector,
    "filesystem": FilesystemCollector,
    "disk": DiskCollector,
    "network": NetworkCollector,
    "load": LoadCollector,
    "processes": ProcessesCollector,
}


def default_collectors(names: list[str] | None = None) -> list[Collector]:
    """Collectors for the named families (all of them by default)."""
    unknown = set(names or ()) - FAMILIES.keys()
    if unknown:
        raise ValueError(
            f"unknown collector(s) {', '.join(sorted(unknown))}; known: {', '.join(FAMILIES)}"
        )
    return [FAMILIES[name]() for name in (names or FAMILIES)]


__all__ = ["FAMILIES", "Collector", "Sample", "default_collectors"]
