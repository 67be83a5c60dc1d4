"""Sockets in use and socket buffer memory from /proc/net/sockstat{,6} (node_sockstat_*):
TCP memory reaching tcp_mem's limit makes the kernel drop and collapse."""

from __future__ import annotations

import contextlib
import os

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept

PAGE_BYTES = os.sysconf("SC_PAGESIZE")


def parse_sockstat(text: str, page_bytes: int = PAGE_BYTES) -> dict[str, float]:
    """node_exporter's metric name -> value; "mem" is in pages, also sent as mem_bytes."""
    found = {}
    for line in text.splitlines():
        protocol, _, fields = line.partition(":")
        pairs = fields.split()
        for name, value in zip(pairs[::2], pairs[1::2], strict=False):
            if protocol == "sockets":
                found[f"node_sockstat_sockets_{name}"] = float(value)
                continue
            found[f"node_sockstat_{protocol}_{name}"] = float(value)
            if name == "mem":
                found[f"node_sockstat_{protocol}_mem_bytes"] = float(value) * page_bytes
    return found


class SockstatCollector:
    name = "sockstat"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        found = parse_sockstat(read_kept(self.paths.proc("net", "sockstat")))
        with contextlib.suppress(FileNotFoundError):  # IPv6 disabled
            found |= parse_sockstat(read_kept(self.paths.proc("net", "sockstat6")))
        return [Sample(metric, value) for metric, value in found.items()]
