"""Memory queued in UDP sockets from /proc/net/udp{,6} (node_udp_queues{ip, queue}): a
receive queue that keeps growing means a reader that cannot keep up, and drops follow."""

from __future__ import annotations

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept

# node_exporter's label values per file.
FILES = (("udp", "v4"), ("udp6", "v6"))


def parse_udp_queues(text: str) -> tuple[float, float]:
    """Bytes in all transmit and receive queues: the sum over sockets of the hexadecimal
    "tx_queue:rx_queue" column of /proc/net/udp (the header line skipped)."""
    tx = rx = 0
    for line in text.splitlines()[1:]:
        fields = line.split(None, 5)
        if len(fields) > 4:
            queued_tx, _, queued_rx = fields[4].partition(":")
            tx += int(queued_tx, 16)
            rx += int(queued_rx, 16)
    return float(tx), float(rx)


class UdpQueuesCollector:
    name = "udp_queues"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths
        self._labels = {(ip, queue): {"ip": ip, "queue": queue}
                        for _, ip in FILES for queue in ("tx", "rx")}

    def collect(self) -> list[Sample]:
        samples = []
        for file, ip in FILES:
            try:
                tx, rx = parse_udp_queues(read_kept(self.paths.proc("net", file)))
            except FileNotFoundError:
                if ip == "v6":  # IPv6 disabled: IPv4 alone, as node_exporter does
                    continue
                raise
            samples.append(Sample("node_udp_queues", tx, self._labels[(ip, "tx")]))
            samples.append(Sample("node_udp_queues", rx, self._labels[(ip, "rx")]))
        return samples
