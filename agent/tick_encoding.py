"""One collection's samples as a Batch, encoded straight to protobuf wire bytes.

Each sample is its own series with one point, and the same series come back every
collection: the encoded SeriesKey of each is cached, so a collection costs a few byte
concatenations per sample and one C-level parse of the result, instead of building a
SeriesKey and SeriesSamples message per sample (about a third of the cost).
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
        self._keys: dict[tuple[str, tuple[tuple[str, str], ...]], bytes] = {}

    def _key(self, metric: str, labels) -> bytes:
        cache_key = (metric, tuple(labels.items()))
        encoded = self._keys.get(cache_key)
        if encoded is None:
            if len(self._keys) >= MAX_CACHED_KEYS:
                self._keys.clear()
            key = series_pb2.SeriesKey(metric=metric, labels=labels).SerializeToString()
            encoded = self._keys[cache_key] = SAMPLES_KEY + varint(len(key)) + key
        return encoded

    def encode(self, timestamp_ms: int, samples: Iterable[Sample]) -> bytes:
        """The wire bytes of a Batch (sequence unset) holding each sample as a series."""
        timestamp = varint(timestamp_ms)
        point = SAMPLES_TIMESTAMPS + varint(len(timestamp)) + timestamp + SAMPLES_ONE_VALUE
        parts = []
        for metric, value, labels in samples:
            body = self._key(metric, labels) + point + DOUBLE.pack(value)
            parts.append(BATCH_SERIES + varint(len(body)) + body)
        return b"".join(parts)

    def batch(self, timestamp_ms: int, samples: Iterable[Sample]) -> ingest_pb2.Batch:
        return ingest_pb2.Batch.FromString(self.encode(timestamp_ms, samples))
