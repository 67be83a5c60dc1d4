"""What every collector is: a name and a collect() that returns samples.

Collectors read the host's files through `HostPaths` (see host_files.py), so a
DaemonSet's read-only host mounts (/host/proc, /host/sys, /host) work as they do
for node_exporter's --path.procfs, --path.sysfs and --path.rootfs; each keeps its
parsing in plain functions over the file's text, tested on captured contents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, Protocol

NO_LABELS: Mapping[str, str] = {}


class Sample(NamedTuple):
    """One value of one series at the current sampling instant (a tuple: hundreds are
    made every collection, and a tuple costs a third of a frozen dataclass)."""

    metric: str
    value: float
    labels: Mapping[str, str] = NO_LABELS


class NoData(Exception):
    """The host has nothing for this family (no PSI, no conntrack module): reported as
    node_scrape_collector_success 0, like node_exporter's ErrNoData, but not logged as a failure."""


class Collector(Protocol):
    name: str

    def collect(self) -> list[Sample]:
        """Read the current values; raise if the family cannot be read at all."""
        ...
