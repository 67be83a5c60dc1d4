"""Processes and threads by state (node_processes_*), context switches and forks."""

from __future__ import annotations

from collections import Counter
from types import ModuleType

import psutil

from infracast.agent.collectors.base import Sample


class ProcessesCollector:
    name = "processes"

    def __init__(self, ps: ModuleType = psutil) -> None:
        self.ps = ps

    def collect(self) -> list[Sample]:
        states: Counter[str] = Counter()
        threads = 0
        pids = 0
        for process in self.ps.process_iter(["status", "num_threads"]):
            info = process.info
            pids += 1
            # A process may exit between listing and reading: psutil then leaves None.
            if info.get("status"):
                states[info["status"]] += 1
            threads += info.get("num_threads") or 0
        stats = self.ps.cpu_stats()
        samples = [
            Sample("node_processes_pids", float(pids)),
            Sample("node_processes_threads", float(threads)),
            Sample("node_context_switches_total", float(stats.ctx_switches)),
            Sample("node_intr_total", float(stats.interrupts)),
            Sample("node_procs_running", float(states.get("running", 0))),
            Sample("node_procs_blocked", float(states.get("disk-sleep", 0))),
        ]
        samples += [
            Sample("node_processes_state", float(count), {"state": state})
            for state, count in sorted(states.items())
        ]
        return samples
