"""Network traffic per interface from /proc/net/dev (node_network_*_total), as node_exporter's
netdev collector names it."""

from __future__ import annotations

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept


def parse_netdev(netdev: str) -> dict[str, list[tuple[str, float]]]:
    """(metric, value) pairs per interface, the column names taken from the header, e.g.
    "Receive | bytes packets ... | Transmit | bytes ... colls carrier" ->
    node_network_receive_bytes_total, ..., node_network_transmit_colls_total."""
    lines = netdev.splitlines()
    _, receive, transmit = lines[1].split("|")
    names = ([f"node_network_receive_{c}_total" for c in receive.split()]
             + [f"node_network_transmit_{c}_total" for c in transmit.split()])
    found = {}
    for line in lines[2:]:
        device, _, counters = line.partition(":")
        found[device.strip()] = [(name, float(v)) for name, v in zip(names, counters.split(), strict=False)]
    return found


class NetdevCollector:
    name = "netdev"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        samples = []
        for device, values in parse_netdev(read_kept(self.paths.proc("net", "dev"))).items():
            labels = {"device": device}
            samples += [Sample(metric, value, labels) for metric, value in values]
        return samples
