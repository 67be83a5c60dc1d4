"""Load averages (node_load1, node_load5, node_load15)."""

from __future__ import annotations

from types import ModuleType

import psutil

from infracast.agent.collectors.base import Sample


class LoadCollector:
    name = "load"

    def __init__(self, ps: ModuleType = psutil) -> None:
        self.ps = ps

    def collect(self) -> list[Sample]:
        one, five, fifteen = self.ps.getloadavg()
        return [
            Sample("node_load1", float(one)),
            Sample("node_load5", float(five)),
            Sample("node_load15", float(fifteen)),
        ]
