"""In-memory store: per-series numpy arrays of recent samples.

Each series holds at most `max_samples` samples and nothing older than
`retention_ms` before its newest sample. Appends are idempotent on
(series, timestamp): a sample whose timestamp is already stored is skipped, so
a batch resent after a reconnect stores once.
"""

from __future__ import annotations

import threading

import numpy as np

from infracast.server.selector import Selector
from infracast.server.series import SeriesKey
from infracast.server.store.base import AppendResult, SeriesSummary, SeriesWrite, Window


class _SeriesBuffer:
    __slots__ = ("size", "timestamps", "values")

    def __init__(self, capacity: int = 64) -> None:
        self.timestamps = np.empty(capacity, dtype=np.int64)
        self.values = np.empty(capacity, dtype=np.float64)
        self.size = 0

    def append(self, timestamps: np.ndarray, values: np.ndarray, max_samples: int,
               retention_ms: int) -> tuple[int, int]:
        """Merge samples in; return (stored, skipped)."""
        order = np.argsort(timestamps, kind="stable")
        timestamps, values = timestamps[order], values[order]
        # Within one write, the first sample of a timestamp wins.
        first = np.ones(len(timestamps), dtype=bool)
        first[1:] = timestamps[1:] != timestamps[:-1]
        current_ts = self.timestamps[: self.size]
        if self.size and timestamps[0] <= current_ts[-1]:
            # Late or resent samples: drop those already stored, merge the rest in order.
            first &= ~np.isin(timestamps, current_ts)
        new_ts, new_values = timestamps[first], values[first]
        stored = len(new_ts)
        skipped = len(timestamps) - stored
        if not stored:
            return 0, skipped
        if self.size and new_ts[0] <= current_ts[-1]:
            merged_ts = np.concatenate([current_ts, new_ts])
            merged_values = np.concatenate([self.values[: self.size], new_values])
            order = np.argsort(merged_ts, kind="stable")
            self._replace(merged_ts[order], merged_values[order])
        else:
            self._extend(new_ts, new_values)
        self._trim(max_samples, retention_ms)
        return stored, skipped

    def _extend(self, timestamps: np.ndarray, values: np.ndarray) -> None:
        needed = self.size + len(timestamps)
        if needed > len(self.timestamps):
            capacity = max(needed, 2 * len(self.timestamps))
            self.timestamps = np.resize(self.timestamps, capacity)
            self.values = np.resize(self.values, capacity)
        self.timestamps[self.size : needed] = timestamps
        self.values[self.size : needed] = values
        self.size = needed

    def _replace(self, timestamps: np.ndarray, values: np.ndarray) -> None:
        self.timestamps, self.values, self.size = timestamps, values, len(timestamps)

    def _trim(self, max_samples: int, retention_ms: int) -> None:
        newest = self.timestamps[self.size - 1]
        start = int(np.searchsorted(self.timestamps[: self.size], newest - retention_ms))
        start = max(start, self.size - max_samples)
        if start > 0:
            keep = self.size - start
            self.timestamps[:keep] = self.timestamps[start : self.size]
            self.values[:keep] = self.values[start : self.size]
            self.size = keep


class MemoryStore:
    """The Store interface over process memory (nothing survives a restart)."""

    def __init__(self, retention_ms: int = 3 * 24 * 3600 * 1000, max_samples: int = 50_000) -> None:
        self._series: dict[SeriesKey, _SeriesBuffer] = {}
        self._by_metric: dict[str, set[SeriesKey]] = {}
        self._retention_ms = retention_ms
        self._max_samples = max_samples
        # Forecasts read from executor threads while ingest appends on the event loop.
        self._lock = threading.Lock()

    async def append(self, writes: list[SeriesWrite]) -> AppendResult:
        stored = skipped = 0
        with self._lock:
            for write in writes:
                if len(write.timestamps_ms) == 0:
                    continue
                buffer = self._series.get(write.key)
                if buffer is None:
                    buffer = self._series[write.key] = _SeriesBuffer()
                    self._by_metric.setdefault(write.key.metric, set()).add(write.key)
                added, dropped = buffer.append(
                    write.timestamps_ms, write.values, self._max_samples, self._retention_ms
                )
                stored += added
                skipped += dropped
        return AppendResult(stored, skipped)

    def select(self, selector: Selector) -> list[SeriesKey]:
        with self._lock:
            metric = selector.metric
            candidates = self._by_metric.get(metric, set()) if metric else self._series.keys()
            return sorted(key for key in candidates if selector.matches(key))

    def summary(self, key: SeriesKey) -> SeriesSummary | None:
        with self._lock:
            buffer = self._series.get(key)
            if buffer is None or buffer.size == 0:
                return None
            return SeriesSummary(
                key=key,
                sample_count=buffer.size,
                first_timestamp_ms=int(buffer.timestamps[0]),
                last_timestamp_ms=int(buffer.timestamps[buffer.size - 1]),
                last_value=float(buffer.values[buffer.size - 1]),
            )

    def window(self, key: SeriesKey) -> Window | None:
        with self._lock:
            buffer = self._series.get(key)
            if buffer is None or buffer.size == 0:
                return None
            return Window(
                key, buffer.timestamps[: buffer.size].copy(), buffer.values[: buffer.size].copy()
            )

    @property
    def series_count(self) -> int:
        return len(self._series)

    async def close(self) -> None:
        return None
