"""Disk I/O per device from /proc/diskstats (node_disk_*), as node_exporter's diskstats
collector names and scales it."""

from __future__ import annotations

import re

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept

# node_exporter's default --collector.diskstats.device-exclude.
IGNORED_DEVICES = re.compile(r"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$")
SECTOR_BYTES = 512.0
MS = 0.001
# /proc/diskstats columns after major, minor and name: (metric, scale).
COLUMNS = (
    ("node_disk_reads_completed_total", 1.0),
    ("node_disk_reads_merged_total", 1.0),
    ("node_disk_read_bytes_total", SECTOR_BYTES),
    ("node_disk_read_time_seconds_total", MS),
    ("node_disk_writes_completed_total", 1.0),
    ("node_disk_writes_merged_total", 1.0),
    ("node_disk_written_bytes_total", SECTOR_BYTES),
    ("node_disk_write_time_seconds_total", MS),
    ("node_disk_io_now", 1.0),
    ("node_disk_io_time_seconds_total", MS),
    ("node_disk_io_time_weighted_seconds_total", MS),
    ("node_disk_discards_completed_total", 1.0),
    ("node_disk_discards_merged_total", 1.0),
    ("node_disk_discarded_sectors_total", 1.0),
    ("node_disk_discard_time_seconds_total", MS),
    ("node_disk_flush_requests_total", 1.0),
    ("node_disk_flush_requests_time_seconds_total", MS),
)


def parse_diskstats(diskstats: str) -> dict[str, list[tuple[str, float]]]:
    """(metric, value) pairs per device not excluded; older kernels have fewer columns."""
    found = {}
    for line in diskstats.splitlines():
        fields = line.split()
        if len(fields) < 14 or IGNORED_DEVICES.match(fields[2]):
            continue
        found[fields[2]] = [(metric, int(raw) * scale)
                            for (metric, scale), raw in zip(COLUMNS, fields[3:], strict=False)]
    return found


class DiskCollector:
    name = "diskstats"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        samples = []
        for device, values in parse_diskstats(read_kept(self.paths.proc("diskstats"))).items():
            labels = {"device": device}
            samples += [Sample(metric, value, labels) for metric, value in values]
        return samples
