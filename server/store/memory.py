"""In-memory windows: per series, raw samples for a recent window and 5-minute
aggregates (sum and count, for means) for a longer one, in numpy arrays.

Memory per series is bounded: at most `max_raw_samples` raw samples (16 bytes each)
plus one aggregate per bucket of the downsampled window (12 bytes each). With the
defaults (6 h raw at 10 s = 2,160 samples; 14 days of 5-minute buckets = 4,032) that
is about 35 KB + 48 KB = 83 KB per series of arrays (bench/store_memory.py measures
the whole, objects and spare capacity included: 91 KiB).

Appends are idempotent on (series, timestamp): a sample whose timestamp is already
held raw is skipped, so a batch resent after a reconnect stores once. Samples older
than the raw window are folded into their bucket's aggregate as they age out.
"""

from __future__ import annotations

import asyncio
import threading
from itertools import chain

import numpy as np

from infracast.server.selector import Selector
from infracast.server.series import SeriesKey
from infracast.server.store.base import AppendResult, SeriesSummary, SeriesWrite, Window

BUCKET_MS = 300_000
HOUR_MS = 3_600_000


_NO_FLOATS = np.empty(0)
_NO_COUNTS = np.empty(0, dtype=np.int32)
_NO_COUNTS.flags.writeable = False
_NO_FLOATS.flags.writeable = False


class _Aggregates:
    """Sum and count of the samples folded into each 5-minute bucket (12 bytes a bucket).

    Buckets are consecutive from `first_ms` on, so their start times are not stored; a
    bucket no sample fell into has a count of 0 (a node that was away). Forecasts read
    the means; the durable log keeps each bucket's maximum too, for the questions that
    need peaks, so memory does not.
    """

    __slots__ = ("counts", "first_ms", "sums")

    def __init__(self) -> None:
        # Empty (shared, read-only) until the first fold replaces them. Series that have
        # not aged out yet share one empty _Aggregates instead (_NO_AGGREGATES below).
        self.first_ms = 0
        self.sums = _NO_FLOATS
        self.counts = _NO_COUNTS

    @classmethod
    def of(cls, starts: np.ndarray, sums: np.ndarray, counts: np.ndarray) -> _Aggregates:
        """From buckets listed by start time (sorted, as the durable log returns them)."""
        aggregates = cls()
        if len(starts):
            aggregates.first_ms = int(starts[0])
            index = (starts - starts[0]) // BUCKET_MS
            aggregates.sums = np.zeros(int(index[-1]) + 1)
            aggregates.counts = np.zeros(int(index[-1]) + 1, dtype=np.int32)
            aggregates.sums[index] = sums
            aggregates.counts[index] = counts
        return aggregates

    @property
    def size(self) -> int:
        return len(self.counts)

    @property
    def last_start_ms(self) -> int:
        return self.first_ms + (len(self.counts) - 1) * BUCKET_MS

    def fold(self, timestamps: np.ndarray, values: np.ndarray) -> None:
        """Add sorted samples; they are never older than what was folded before, except
        within the last bucket, which they extend (anything older is dropped)."""
        if not self.size:
            self.first_ms = int(timestamps[0] - timestamps[0] % BUCKET_MS)
        index = (timestamps - self.first_ms) // BUCKET_MS
        keep = index >= self.size - 1
        index, values = index[keep], values[keep]
        if not len(index):
            return
        grown = int(index[-1]) + 1 - self.size
        if grown > 0:
            self.sums = np.concatenate([self.sums, np.zeros(grown)])
            self.counts = np.concatenate([self.counts, np.zeros(grown, dtype=np.int32)])
        self.sums += np.bincount(index, weights=values, minlength=self.size)
        self.counts += np.bincount(index, minlength=self.size).astype(np.int32)

    def trim(self, oldest_ms: int) -> None:
        """Drop the buckets that end before oldest_ms, and empty ones left in front."""
        if not self.size:
            return
        start = max(0, -(-(oldest_ms - BUCKET_MS + 1 - self.first_ms) // BUCKET_MS))
        nonempty = np.flatnonzero(self.counts[start:])
        start = start + int(nonempty[0]) if len(nonempty) else self.size
        if start:
            self.sums, self.counts = self.sums[start:], self.counts[start:]
            self.first_ms += start * BUCKET_MS

    def means(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean of each bucket that holds samples, stamped at the bucket's middle."""
        held = np.flatnonzero(self.counts)
        return (self.first_ms + held * BUCKET_MS + BUCKET_MS // 2,
                self.sums[held] / self.counts[held])


_NO_AGGREGATES = _Aggregates()


class _SeriesBuffer:
    __slots__ = ("aggregates", "samples", "size")

    def __init__(self, capacity: int = 4) -> None:
        # Times in row 0, values' float64 bits in row 1: one array per series rather than
        # two saves an array header (~130 bytes) on every one of them.
        self.samples = np.empty((2, capacity), dtype=np.int64)
        self.size = 0
        # Shared and empty until samples first age out: most series of a young server
        # never do, and an object per series adds up over a hundred thousand of them.
        self.aggregates = _NO_AGGREGATES

    @property
    def timestamps(self) -> np.ndarray:
        """Sample times (ms), the whole capacity: the first `size` hold samples."""
        return self.samples[0]

    @property
    def values(self) -> np.ndarray:
        return self.samples[1].view(np.float64)

    def _replace(self, timestamps: np.ndarray, values: np.ndarray) -> None:
        self.samples = np.stack([timestamps, values.view(np.int64)])
        self.size = len(timestamps)

    def append(self, timestamps: np.ndarray, values: np.ndarray, limits: MemoryLimits) -> tuple[int, int]:
        """Merge samples in; return (stored, skipped)."""
        if len(timestamps) == 1 and (self.size == 0 or timestamps[0] > self.timestamps[self.size - 1]) \
                and (not self.aggregates.size or timestamps[0] >= self.aggregates.last_start_ms + BUCKET_MS):
            # The common case, one new sample per series per scrape: no sorting or merging.
            self._extend(timestamps, values)
            if self.size > limits.max_raw_samples or \
                    self.timestamps[0] < timestamps[0] - limits.raw_window_ms - BUCKET_MS:
                self._age(limits)
            return 1, 0
        order = np.argsort(timestamps, kind="stable")
        timestamps, values = timestamps[order], values[order]
        # Within one write, the first sample of a timestamp wins.
        first = np.ones(len(timestamps), dtype=bool)
        first[1:] = timestamps[1:] != timestamps[:-1]
        current_ts = self.timestamps[: self.size]
        if self.size and timestamps[0] <= current_ts[-1]:
            # Late or resent samples: drop those already held, merge the rest in order.
            first &= ~np.isin(timestamps, current_ts)
        if self.aggregates.size:
            # Samples older than the raw window were already folded into aggregates.
            first &= timestamps >= self.aggregates.last_start_ms + BUCKET_MS
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
        self._age(limits)
        return stored, skipped

    def _extend(self, timestamps: np.ndarray, values: np.ndarray) -> None:
        needed = self.size + len(timestamps)
        held = self.samples.shape[1]
        if needed > held:
            # Grow by a quarter, not double: a full raw window is most of a series' memory,
            # and doubling would leave up to half of it unused for good.
            grown = np.empty((2, max(needed, held * 5 // 4 + 8)), dtype=np.int64)
            grown[:, : self.size] = self.samples[:, : self.size]
            self.samples = grown
        self.timestamps[self.size : needed] = timestamps
        self.values[self.size : needed] = values
        self.size = needed

    def _age(self, limits: MemoryLimits) -> None:
        """Fold raw samples out of the raw window (by age or count) into aggregates.

        The cut falls on a bucket boundary so a bucket is folded whole, except when
        the sample cap forces a cut inside one.
        """
        newest = int(self.timestamps[self.size - 1])
        cut_time = newest - limits.raw_window_ms
        cut_time -= cut_time % BUCKET_MS
        cut = int(np.searchsorted(self.timestamps[: self.size], cut_time))
        cut = max(cut, self.size - limits.max_raw_samples)
        if cut > 0:
            if self.aggregates is _NO_AGGREGATES:
                self.aggregates = _Aggregates()
            self.aggregates.fold(self.timestamps[:cut], self.values[:cut])
            keep = self.size - cut
            if self.samples.shape[1] > 2 * keep + 64:
                # Much was folded at once (a replay, a back-fill): give the room back.
                self.samples = self.samples[:, cut : self.size].copy()
            else:
                self.samples[:, :keep] = self.samples[:, cut : self.size]
            self.size = keep
        self.aggregates.trim(newest - limits.downsampled_window_ms)

    def window(self) -> tuple[np.ndarray, np.ndarray]:
        """Aggregated means (stamped at their bucket's middle) followed by raw samples."""
        means_ts, means = self.aggregates.means()
        return (np.concatenate([means_ts, self.timestamps[: self.size]]),
                np.concatenate([means, self.values[: self.size]]))


class MemoryLimits:
    """How long raw samples stay raw, how long aggregates are kept, and the raw sample cap."""

    __slots__ = ("downsampled_window_ms", "max_raw_samples", "raw_window_ms")

    def __init__(self, raw_window_ms: int = 6 * HOUR_MS, downsampled_window_ms: int = 14 * 24 * HOUR_MS,
                 max_raw_samples: int = 8640) -> None:
        self.raw_window_ms = raw_window_ms
        self.downsampled_window_ms = downsampled_window_ms
        self.max_raw_samples = max_raw_samples


class MemoryStore:
    """The Store interface over process memory (nothing survives a restart on its own)."""

    def __init__(self, limits: MemoryLimits | None = None) -> None:
        self.limits = limits or MemoryLimits()
        # Series by metric name, then by key: selectors name their metric, and one map per
        # metric serves both lookups without a second index of every key.
        self._by_metric: dict[str, dict[SeriesKey, _SeriesBuffer]] = {}
        self._count = 0
        self._by_node: dict[str, int] = {}  # series count per node label (for per-agent caps)
        # Forecasts read from executor threads while ingest appends on the event loop.
        self._lock = threading.Lock()

    async def append(self, writes: list[SeriesWrite]) -> AppendResult:
        return await asyncio.to_thread(self.append_now, writes)

    # Ingest's split append (base.StagingStore): all of it happens in ingest's worker
    # thread, so a batch crosses threads once.
    def append_to_memory(self, writes: list[SeriesWrite]) -> AppendResult:
        return self.append_now(writes)

    async def commit(self, writes: list[SeriesWrite]) -> None:
        return None

    def append_now(self, writes: list[SeriesWrite]) -> AppendResult:
        stored = skipped = 0
        with self._lock:
            for write in writes:
                if len(write.timestamps_ms) == 0:
                    continue
                buffer = self._buffer(write.key)
                if buffer is None:
                    buffer = self._add(write.key, _SeriesBuffer())
                added, dropped = buffer.append(write.timestamps_ms, write.values, self.limits)
                stored += added
                skipped += dropped
        return AppendResult(stored, skipped)

    def restore(self, key: SeriesKey, bucket_starts: np.ndarray, bucket_sums: np.ndarray,
                bucket_counts: np.ndarray, timestamps_ms: np.ndarray, values: np.ndarray) -> None:
        """Load one series from the durable log at start-up (aggregates, then raw samples)."""
        with self._lock:
            buffer = _SeriesBuffer()
            if len(bucket_starts):
                buffer.aggregates = _Aggregates.of(bucket_starts, bucket_sums, bucket_counts)
            self._add(key, buffer)
            if len(timestamps_ms):
                buffer.append(timestamps_ms, values, self.limits)

    def select(self, selector: Selector) -> list[SeriesKey]:
        # Only the copy of the candidate keys holds the lock: matching them (regular
        # expressions on every series) would keep ingest waiting for as long.
        with self._lock:
            metric = selector.metric
            candidates = (list(self._by_metric.get(metric, {})) if metric
                          else list(chain.from_iterable(self._by_metric.values())))
        return sorted(key for key in candidates if selector.matches(key))

    def summary(self, key: SeriesKey) -> SeriesSummary | None:
        with self._lock:
            buffer = self._buffer(key)
            if buffer is None:
                return None
            timestamps, values = buffer.window()
            if len(timestamps) == 0:
                return None
            aggregates = buffer.aggregates
            first = aggregates.first_ms if aggregates.size else int(timestamps[0])
            return SeriesSummary(
                key=key,
                sample_count=buffer.size + int(aggregates.counts.sum()),
                first_timestamp_ms=first,
                last_timestamp_ms=int(timestamps[-1]),
                last_value=float(values[-1]),
            )

    def window(self, key: SeriesKey) -> Window | None:
        with self._lock:
            buffer = self._buffer(key)
            if buffer is None:
                return None
            timestamps, values = buffer.window()
            return Window(key, timestamps, values) if len(timestamps) else None

    def _buffer(self, key: SeriesKey) -> _SeriesBuffer | None:
        series = self._by_metric.get(key.metric)
        return series.get(key) if series else None

    def _add(self, key: SeriesKey, buffer: _SeriesBuffer) -> _SeriesBuffer:
        self._by_metric.setdefault(key.metric, {})[key] = buffer
        self._count += 1
        node = key.node
        if node is not None:
            self._by_node[node] = self._by_node.get(node, 0) + 1
        return buffer

    def has_series(self, key: SeriesKey) -> bool:
        return key in self._by_metric.get(key.metric, ())

    def node_series_count(self, node: str) -> int:
        return self._by_node.get(node, 0)

    @property
    def series_count(self) -> int:
        return self._count

    async def close(self) -> None:
        return None
