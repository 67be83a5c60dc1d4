"""Neighbour (ARP) entries per interface from /proc/net/arp (node_arp_entries{device}): a
table reaching net.ipv4.neigh.default.gc_thresh3 makes the kernel drop new neighbours."""

from __future__ import annotations

from collections import Counter

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept


def parse_arp(text: str) -> dict[str, int]:
    """Entries per device (the last column), the header line skipped."""
    return dict(Counter(line.rsplit(None, 1)[-1] for line in text.splitlines()[1:] if line.strip()))


class ArpCollector:
    name = "arp"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        return [Sample("node_arp_entries", float(count), {"device": device})
                for device, count in parse_arp(read_kept(self.paths.proc("net", "arp"))).items()]
