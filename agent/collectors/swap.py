"""Swap space and swap traffic."""

from __future__ import annotations

from types import ModuleType

import psutil

from infracast.agent.collectors.base import Sample


class SwapCollector:
    name = "swap"

    def __init__(self, ps: ModuleType = psutil) -> None:
        self.ps = ps

    def collect(self) -> list[Sample]:
        swap = self.ps.swap_memory()
        return [
            Sample("node_memory_SwapTotal_bytes", float(swap.total)),
            Sample("node_memory_SwapFree_bytes", float(swap.free)),
            # node_exporter counts pages (node_vmstat_pswpin); psutil reports bytes.
            Sample("infracast_node_swap_in_bytes_total", float(swap.sin)),
            Sample("infracast_node_swap_out_bytes_total", float(swap.sout)),
        ]
