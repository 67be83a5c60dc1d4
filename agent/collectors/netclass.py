"""Interface state from /sys/class/net (node_exporter's netclass collector): up, carrier,
carrier changes, MTU and speed per interface."""

from __future__ import annotations

import os

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_text

MBIT_BYTES = 125_000.0  # speed is in Mbit/s; node_exporter reports bytes/s
# Attribute file -> (metric, scale); a file the device refuses to give (EINVAL for the
# carrier or speed of a link that is down) is skipped, as node_exporter does.
NUMERIC = (
    ("carrier", "node_network_carrier", 1.0),
    ("carrier_changes", "node_network_carrier_changes_total", 1.0),
    ("carrier_up_count", "node_network_carrier_up_changes_total", 1.0),
    ("carrier_down_count", "node_network_carrier_down_changes_total", 1.0),
    ("mtu", "node_network_mtu_bytes", 1.0),
    ("speed", "node_network_speed_bytes", MBIT_BYTES),
    ("tx_queue_len", "node_network_transmit_queue_length", 1.0),
)


def interface_samples(device: str, attributes: dict[str, str]) -> list[Sample]:
    """Samples of one interface from its sysfs attribute files' contents."""
    labels = {"device": device}
    samples = [Sample("node_network_up", float(attributes.get("operstate", "").strip() == "up"), labels)]
    for attribute, metric, scale in NUMERIC:
        text = attributes.get(attribute)
        if text is not None:
            samples.append(Sample(metric, int(text) * scale, labels))
    return samples


class NetclassCollector:
    name = "netclass"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        root = self.paths.sys("class", "net")
        samples = []
        for device in sorted(os.listdir(root)):
            attributes = {}
            for attribute in ("operstate", *(a for a, _, _ in NUMERIC)):
                try:
                    attributes[attribute] = read_text(os.path.join(root, device, attribute))
                except OSError:
                    continue  # not applicable to this device now (see NUMERIC)
            samples += interface_samples(device, attributes)
        return samples
