"""Pressure stall information from /proc/pressure (node_pressure_*): seconds in which some
tasks waited for CPU, memory or I/O, and (memory, I/O) in which all were stalled. The
rate of these rising ahead of exhaustion is what makes them predictive."""

from __future__ import annotations

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_optional

# (resource, line, metric), as node_exporter reads them; cpu "full" is not sent by it.
METRICS = (
    ("cpu", "some", "node_pressure_cpu_waiting_seconds_total"),
    ("io", "some", "node_pressure_io_waiting_seconds_total"),
    ("io", "full", "node_pressure_io_stalled_seconds_total"),
    ("memory", "some", "node_pressure_memory_waiting_seconds_total"),
    ("memory", "full", "node_pressure_memory_stalled_seconds_total"),
)


def parse_pressure(text: str) -> dict[str, float]:
    """{"some": seconds, "full": seconds} from the total= (microseconds) of each line."""
    found = {}
    for line in text.splitlines():
        kind, *fields = line.split()
        for field in fields:
            if field.startswith("total="):
                found[kind] = int(field[6:]) / 1e6
    return found


class PressureCollector:
    name = "pressure"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        totals = {resource: parse_pressure(read_optional(self.paths.proc("pressure", resource),
                                                         "no pressure stall information"))
                  for resource in ("cpu", "io", "memory")}
        return [Sample(metric, totals[resource][line])
                for resource, line, metric in METRICS if line in totals[resource]]
