"""Disk I/O per device (node_disk_*), as node_exporter's diskstats collector names it."""

from __future__ import annotations

import re
from types import ModuleType

import psutil

from infracast.agent.collectors.base import Sample

# node_exporter's default: skip partitions-of-ram, loop and similar virtual devices.
IGNORED_DEVICES = re.compile(r"^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$")


class DiskCollector:
    name = "disk"

    def __init__(self, ps: ModuleType = psutil) -> None:
        self.ps = ps

    def collect(self) -> list[Sample]:
        samples: list[Sample] = []
        for device, io in sorted((self.ps.disk_io_counters(perdisk=True) or {}).items()):
            if IGNORED_DEVICES.match(device):
                continue
            labels = {"device": device}
            samples += [
                Sample("node_disk_reads_completed_total", float(io.read_count), labels),
                Sample("node_disk_writes_completed_total", float(io.write_count), labels),
                Sample("node_disk_read_bytes_total", float(io.read_bytes), labels),
                Sample("node_disk_written_bytes_total", float(io.write_bytes), labels),
                Sample("node_disk_read_time_seconds_total", io.read_time / 1000.0, labels),
                Sample("node_disk_write_time_seconds_total", io.write_time / 1000.0, labels),
            ]
            busy_ms = getattr(io, "busy_time", None)
            if busy_ms is not None:
                samples.append(Sample("node_disk_io_time_seconds_total", busy_ms / 1000.0, labels))
        return samples
