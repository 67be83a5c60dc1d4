"""One collection's samples as a Batch, encoded straight to protobuf wire bytes.

Each sample is its own series with one point, and the same series come back every
collection: each series' entry up to its point is cached, so a collection costs a dict
look-up and a float pack per sample and one C-level parse of the result, instead of
building a SeriesKey and SeriesSamples message per sample (about a third of the cost).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from infracast.agent.collectors.base import Sample
from infracast.v1 import ingest_pb2, series_pb2

# Field tags: Batch.series = 2; SeriesSamples.key = 1, .timestamps_ms = 2 (packed),
# .values = 3 (packed, one double: 8 bytes).
BATCH_SERIES = b"\x12"
SAMPLES_KEY = b"\x0a"
SAMPLES_TIMESTAMPS = b"\x12"
SAMPLES_ONE_VALUE = b"\x1a\x08"
DOUBLE = struct.Struct("<d")
# Label sets come and go (containers, mounts): start afresh past this many keys.
MAX_CACHED_KEYS = 100_000


def varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class TickEncoder:
    def __init__(self) -> None:
        # Per series: the length of the timestamp part it was made for, and everything of its
        # entry before that part (Batch.series tag, entry length, encoded key): all that
        # changes between collections is the timestamp, shared by every entry, and the value.
        self._heads: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[int, bytes]] = {}

    def _head(self, cache_key: tuple[str, tuple[tuple[str, str], ...]], labels, point_size: int) -> bytes:
        cached = self._heads.get(cache_key)
        if cached is not None and cached[0] == point_size:
            return cached[1]
        if len(self._heads) >= MAX_CACHED_KEYS:
            self._heads.clear()
        key = series_pb2.SeriesKey(metric=cache_key[0], labels=labels).SerializeToString()
        encoded_key = SAMPLES_KEY + varint(len(key)) + key
        head = BATCH_SERIES + varint(len(encoded_key) + point_size + DOUBLE.size) + encoded_key
        self._heads[cache_key] = (point_size, head)
        return head

    def encode(self, timestamp_ms: int, samples: Iterable[Sample]) -> bytes:
        """The wire bytes of a Batch (sequence unset) holding each sample as a series."""
        timestamp = varint(timestamp_ms)
        point = SAMPLES_TIMESTAMPS + varint(len(timestamp)) + timestamp + SAMPLES_ONE_VALUE
        point_size = len(point)
        heads = self._heads
        pack = DOUBLE.pack
        parts: list[bytes] = []
        for metric, value, labels in samples:
            cache_key = (metric, tuple(labels.items()))
            cached = heads.get(cache_key)
            head = cached[1] if cached is not None and cached[0] == point_size else \
                self._head(cache_key, labels, point_size)
            parts += (head, point, pack(value))
        return b"".join(parts)

    def batch(self, timestamp_ms: int, samples: Iterable[Sample]) -> ingest_pb2.Batch:
        return ingest_pb2.Batch.FromString(self.encode(timestamp_ms, samples))
