"""Node-like series and their requests, encoded once and patched in place per round.

The load generator must not be what limits a server's ingest, so no request is built from
protobuf objects while the load runs: every series is encoded once (infracast's
SeriesSamples and remote write's TimeSeries, one sample each) into one byte buffer per
protocol, and each round only overwrites the sample's timestamp (a 6-byte varint for any
millisecond timestamp between 1971 and 2109) and value (8 bytes) at offsets found at
encoding time. A node's request is then a slice of that buffer behind a short header.

Series shapes: a node has `series_per_node` series of node_exporter-like families: gauges
follow the NAB AWS CloudWatch series (shared/data/nab: real CPU and network readings,
noise included; synthetic daily cycles where that folder is missing) at a per-series scale
and phase, counters add those readings up, and the rest are constants (sizes, limits), as
on a real node.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
from nab import load_series

from infracast.server.store import remote_write
from infracast.v1 import ingest_pb2, series_pb2

GAUGE, COUNTER, CONSTANT = 0, 1, 2
# (metric, kind, label that tells a family's series apart), in node_exporter's names.
FAMILIES = (
    ("node_cpu_seconds_total", COUNTER, "cpu"),
    ("node_network_receive_bytes_total", COUNTER, "device"),
    ("node_disk_written_bytes_total", COUNTER, "device"),
    ("node_vmstat_pgmajfault_total", COUNTER, "source"),
    ("node_memory_Active_bytes", GAUGE, "numa"),
    ("node_filesystem_avail_bytes", GAUGE, "mountpoint"),
    ("node_load1", GAUGE, "scope"),
    ("node_pressure_cpu_waiting_seconds", GAUGE, "cgroup"),
    ("node_filesystem_size_bytes", CONSTANT, "mountpoint"),
    ("node_network_mtu_bytes", CONSTANT, "device"),
)
PLACEHOLDER_MS = 1_700_000_000_000
PLACEHOLDER_VALUE = 1.5  # not 0.0: proto3 would leave a default value out of the encoding
VARINT_SHIFTS = np.arange(6, dtype=np.int64) * 7


def varint(number: int) -> bytes:
    out = bytearray()
    while number >= 0x80:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def varint6(timestamp_ms: int) -> np.ndarray:
    """A timestamp in [2**35, 2**42) ms as the 6 varint bytes the placeholder occupies."""
    if not 2**35 <= timestamp_ms < 2**42:
        raise ValueError(f"timestamp {timestamp_ms} does not fit the 6-byte varint slot")
    groups = (np.int64(timestamp_ms) >> VARINT_SHIFTS) & 0x7F
    groups[:5] |= 0x80
    return groups.astype(np.uint8)


@dataclass
class Encoded:
    """Framed series entries of one protocol, and where each sample's bytes sit in them."""

    buffer: np.ndarray  # uint8
    node_bounds: np.ndarray  # node i's entries are buffer[bounds[i]:bounds[i + 1]]
    timestamp_at: np.ndarray  # (series, 6) byte offsets
    value_at: np.ndarray  # (series, 8) byte offsets


def _encode(entries: list[bytes], field_tag: bytes, timestamp_from_end: int, value_from_end: int,
            series_per_node: int) -> Encoded:
    framed = [field_tag + varint(len(entry)) + entry for entry in entries]
    ends = np.cumsum([len(f) for f in framed])
    starts = np.concatenate(([0], ends[:-1]))
    buffer = np.frombuffer(b"".join(framed), dtype=np.uint8).copy()
    return Encoded(buffer, np.concatenate((starts[::series_per_node], [ends[-1]])),
                   (ends - timestamp_from_end)[:, None] + np.arange(6),
                   (ends - value_from_end)[:, None] + np.arange(8))


def synthetic_shapes(rng: np.random.Generator, count: int = 4, length: int = 4032) -> list[np.ndarray]:
    """CPU-like readings for a clone without shared/data/nab (a CI machine): a daily cycle
    at 5-minute steps, a slow random walk and noise, kept positive."""
    steps = np.arange(length)
    shapes = []
    for _ in range(count):
        daily = 20 * np.sin(2 * np.pi * steps / 288 + rng.uniform(0, 2 * np.pi))
        walk = np.cumsum(rng.normal(0, 0.3, length))
        shapes.append(np.maximum(50 + daily + walk + rng.normal(0, 3, length), 1.0))
    return shapes


class NodeLoad:
    """`nodes` x `series_per_node` series; node i's request of round r on demand, as bytes."""

    def __init__(self, nodes: int, series_per_node: int, seed: int = 16) -> None:
        self.nodes = nodes
        self.series_per_node = series_per_node
        count = nodes * series_per_node
        rng = np.random.default_rng(seed)
        shapes = [values for _, values in load_series().values()] or synthetic_shapes(rng)
        length = min(len(values) for values in shapes)
        self._shapes = np.stack([values[:length] for values in shapes])
        self._shapes /= self._shapes.mean(axis=1, keepdims=True)  # mean 1: the scale sets the size
        family = np.arange(count) % len(FAMILIES)
        self.kind = np.array([FAMILIES[f][1] for f in family])
        self._shape = rng.integers(0, len(shapes), count)
        self._phase = rng.integers(0, length, count)
        # Sizes from a fraction (loads, seconds) to gigabytes, kept to 3 decimals as /proc gives.
        self._scale = 10.0 ** rng.uniform(-1, 9, count)
        self._constant = np.round(10.0 ** rng.uniform(3, 12, count))
        self._first_counter = np.round(self._scale * rng.uniform(100, 10_000, count), 3)
        self.reset()
        self.labels = [(FAMILIES[f][0], FAMILIES[f][2], str(i % series_per_node // len(FAMILIES)))
                       for i, f in zip(range(count), family, strict=True)]
        self.infracast = self._encode_infracast()
        self.remote_write = self._encode_remote_write()

    def reset(self) -> None:
        """Counters back to their first values, to send the same load again."""
        self._counter = self._first_counter.copy()

    def node_name(self, node: int) -> str:
        return f"bench-{node:05d}"

    def _encode_infracast(self) -> Encoded:
        entries = []
        for metric, label, value in self.labels:
            entries.append(series_pb2.SeriesSamples(
                key=series_pb2.SeriesKey(metric=metric, labels={label: value}),
                timestamps_ms=[PLACEHOLDER_MS], values=[PLACEHOLDER_VALUE]).SerializeToString())
        suffix = (b"\x12\x06" + varint(PLACEHOLDER_MS) + b"\x1a\x08" + struct.pack("<d", PLACEHOLDER_VALUE))
        assert all(entry.endswith(suffix) for entry in entries), "unexpected SeriesSamples layout"
        return _encode(entries, b"\x12", 16, 8, self.series_per_node)  # Batch.series = 2

    def _encode_remote_write(self) -> Encoded:
        series_class = remote_write._MESSAGES["TimeSeries"]
        entries = []
        for index, (metric, label, value) in enumerate(self.labels):
            node = self.node_name(index // self.series_per_node)
            series = series_class()
            for name, text in sorted([("__name__", metric), (label, value), ("node", node)]):
                series.labels.add(name=name, value=text)
            series.samples.add(value=PLACEHOLDER_VALUE, timestamp=PLACEHOLDER_MS)
            entries.append(series.SerializeToString())
        suffix = (b"\x12\x10\x09" + struct.pack("<d", PLACEHOLDER_VALUE) + b"\x10" + varint(PLACEHOLDER_MS))
        assert all(entry.endswith(suffix) for entry in entries), "unexpected TimeSeries layout"
        return _encode(entries, b"\x0a", 6, 15, self.series_per_node)  # WriteRequest.timeseries = 1

    def hello(self, node: int) -> bytes:
        name = self.node_name(node)
        return ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node=name, agent_id=name)).SerializeToString()

    def values(self, node: int, round_index: int) -> np.ndarray:
        """The node's values of this round; counters advance, so call once per (node, round)."""
        part = slice(node * self.series_per_node, (node + 1) * self.series_per_node)
        reading = self._shapes[self._shape[part], (self._phase[part] + round_index) % self._shapes.shape[1]]
        reading = np.round(reading * self._scale[part], 3)
        self._counter[part] += reading
        kind = self.kind[part]
        return np.where(kind == GAUGE, reading, np.where(kind == COUNTER, self._counter[part],
                                                         self._constant[part]))

    def _patched(self, encoded: Encoded, node: int, timestamp_ms: int, values: np.ndarray) -> bytes:
        part = slice(node * self.series_per_node, (node + 1) * self.series_per_node)
        encoded.buffer[encoded.timestamp_at[part]] = varint6(timestamp_ms)
        encoded.buffer[encoded.value_at[part]] = values.astype("<f8").view(np.uint8).reshape(-1, 8)
        return encoded.buffer[encoded.node_bounds[node]:encoded.node_bounds[node + 1]].tobytes()

    def push_request(self, node: int, sequence: int, timestamp_ms: int, values: np.ndarray) -> bytes:
        """An infracast PushRequest{batch{sequence, series}} for the node."""
        batch = b"\x08" + varint(sequence) + self._patched(self.infracast, node, timestamp_ms, values)
        return b"\x12" + varint(len(batch)) + batch

    def write_request(self, node: int, timestamp_ms: int, values: np.ndarray) -> bytes:
        """A remote-write WriteRequest for the node, before snappy compression."""
        return self._patched(self.remote_write, node, timestamp_ms, values)
