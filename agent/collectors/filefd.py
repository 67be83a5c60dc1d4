"""Open file handles against the system-wide limit, from /proc/sys/fs/file-nr
(node_filefd_allocated, node_filefd_maximum)."""

from __future__ import annotations

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept


def parse_file_nr(text: str) -> tuple[float, float]:
    """(allocated, maximum): file-nr is "allocated  unused(always 0)  maximum"."""
    allocated, _, maximum = text.split()
    return float(allocated), float(maximum)


class FilefdCollector:
    name = "filefd"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        allocated, maximum = parse_file_nr(read_kept(self.paths.proc("sys", "fs", "file-nr")))
        return [Sample("node_filefd_allocated", allocated), Sample("node_filefd_maximum", maximum)]
