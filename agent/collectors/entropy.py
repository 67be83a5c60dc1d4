"""The kernel's entropy pool (node_entropy_available_bits, node_entropy_pool_size_bits):
older kernels block readers of /dev/random when it runs low."""

from __future__ import annotations

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept


class EntropyCollector:
    name = "entropy"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        available = read_kept(self.paths.proc("sys", "kernel", "random", "entropy_avail"))
        pool_size = read_kept(self.paths.proc("sys", "kernel", "random", "poolsize"))
        return [Sample("node_entropy_available_bits", float(available)),
                Sample("node_entropy_pool_size_bits", float(pool_size))]
