"""Network traffic per interface (node_network_*), as node_exporter's netdev collector names it."""

from __future__ import annotations

from types import ModuleType

import psutil

from infracast.agent.collectors.base import Sample

FIELDS = (
    ("bytes_recv", "node_network_receive_bytes_total"),
    ("bytes_sent", "node_network_transmit_bytes_total"),
    ("packets_recv", "node_network_receive_packets_total"),
    ("packets_sent", "node_network_transmit_packets_total"),
    ("errin", "node_network_receive_errs_total"),
    ("errout", "node_network_transmit_errs_total"),
    ("dropin", "node_network_receive_drop_total"),
    ("dropout", "node_network_transmit_drop_total"),
)


class NetworkCollector:
    name = "network"

    def __init__(self, ps: ModuleType = psutil) -> None:
        self.ps = ps

    def collect(self) -> list[Sample]:
        samples: list[Sample] = []
        for device, counters in sorted(self.ps.net_io_counters(pernic=True).items()):
            labels = {"device": device}
            samples += [
                Sample(metric, float(getattr(counters, attribute)), labels)
                for attribute, metric in FIELDS
            ]
        return samples
