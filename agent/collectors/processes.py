"""Processes and threads by state from /proc/PID/stat (node_exporter's processes
collector: node_processes_state{state="R|S|D|I|Z|..."}, _pids, _threads, and the limits
_max_processes and _max_threads). Read directly: psutil's process_iter cost four times as much."""

from __future__ import annotations

import os
from collections import Counter

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_bytes, read_kept

# Always sent, so a forecast of D (uninterruptible) or Z (zombie) processes has a series
# even while there are none; other states as they appear.
STATES = ("D", "I", "R", "S", "Z")
STATE_LABELS = {state: {"state": state} for state in STATES}


def parse_process_stat(stat: bytes) -> tuple[str, int]:
    """(state, number of threads) from a /proc/PID/stat line; the command name in
    parentheses may contain spaces and parentheses, so fields start after the last ')'."""
    fields = stat[stat.rindex(b")") + 2:].split(b" ", 18)
    return fields[0].decode(), int(fields[17])


class ProcessesCollector:
    name = "processes"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        states: Counter[str] = Counter(dict.fromkeys(STATES, 0))
        threads = 0
        pids = 0
        procfs = self.paths.procfs
        for pid in os.listdir(procfs):
            if not pid.isdigit():
                continue
            try:
                state, count = parse_process_stat(read_bytes(f"{procfs}/{pid}/stat"))
            except (FileNotFoundError, ProcessLookupError):
                continue  # exited between listing and reading
            pids += 1
            states[state] += 1
            threads += count
        return [
            Sample("node_processes_pids", float(pids)),
            Sample("node_processes_threads", float(threads)),
            Sample("node_processes_max_processes",
                   float(read_kept(self.paths.proc("sys", "kernel", "pid_max")))),
            Sample("node_processes_max_threads",
                   float(read_kept(self.paths.proc("sys", "kernel", "threads-max")))),
            *(Sample("node_processes_state", float(count), STATE_LABELS.get(state) or {"state": state})
              for state, count in sorted(states.items())),
        ]
