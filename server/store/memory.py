"""In-memory windows: per series, raw samples for a recent window and 5-minute
aggregates (sum and count, for means) for a longer one, both mostly compressed.

Raw samples: sealed chunks of HEAD_SAMPLES samples (Gorilla-style, gorilla_kernels.py;
a byte or two a sample for node metrics) and an open head of plain samples that the
next ones extend, a row of arrays shared by all series (heads.py), so that a batch is
appended to all its series in one kernel call (head_kernels.py). Aggregates: sealed
blocks of BLOCK_BUCKETS buckets (counts exact, means to 2**-18 of how far the series
moved within the block, see encode_buckets) and an open block of sums and counts that
late samples of the last bucket still add to. window() decodes; forecasts are cached
and cost far more than a decode.

With the defaults (6 h raw at 10 s = 2,160 samples; 14 days of 5-minute buckets =
4,032) a series of node metrics takes about 17.8 KiB where plain arrays took 88-92 KiB,
an incompressible one 35 KiB (bench/store_memory.py measures the whole, objects and
spare capacity included).

Appends are idempotent on (series, timestamp): a sample whose timestamp is already
held raw is skipped, so a batch resent after a reconnect stores once. Samples older
than the raw window are folded into their bucket's aggregate as they age out.
"""

from __future__ import annotations

import asyncio
import threading
from functools import partial
from itertools import chain

import numpy as np

from infracast.server.selector import Selector
from infracast.server.series import SeriesKey
from infracast.server.store import gorilla_kernels as gorilla
from infracast.server.store.base import AppendResult, SampleBatch, SeriesSummary, SeriesWrite, Window
from infracast.server.store.head_kernels import DEFERRED, NEVER, NO_TIME, append_heads
from infracast.server.store.heads import HEAD_SAMPLES, Heads

BUCKET_MS = 300_000
HOUR_MS = 3_600_000
# Buckets a sealed aggregate block holds: 8 hours.
BLOCK_BUCKETS = 96


_NO_FLOATS = np.empty(0)
_NO_COUNTS = np.empty(0, dtype=np.int32)
_NO_COUNTS.flags.writeable = False
_NO_FLOATS.flags.writeable = False
_NO_TIMES = np.empty(0, dtype=np.int64)
_NO_TIMES.flags.writeable = False


def _chunk_count(chunk: bytes) -> int:
    return int.from_bytes(chunk[2:6], "little")


def _chunk_first_ms(chunk: bytes) -> int:
    return int.from_bytes(chunk[6:14], "little", signed=True)


def _chunk_last_ms(chunk: bytes) -> int:
    return int.from_bytes(chunk[14:22], "little", signed=True)


def _encode(timestamps: np.ndarray, values: np.ndarray) -> bytes:
    return gorilla.encode_samples(np.ascontiguousarray(timestamps), np.ascontiguousarray(values)).tobytes()


def _decode(chunks: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    if not chunks:
        return _NO_TIMES, _NO_FLOATS
    offsets = np.cumsum([0, *map(len, chunks)], dtype=np.int64)
    return gorilla.decode_many(np.frombuffer(b"".join(chunks), dtype=np.uint8), offsets)


class _Aggregates:
    """Sum and count of the samples folded into each 5-minute bucket.

    Buckets are consecutive from `start_ms` on, so their start times are not stored; a
    bucket no sample fell into has a count of 0 (a node that was away). The first
    BLOCK_BUCKETS * len(sealed) of them are sealed blocks (means and counts, compressed),
    the rest open sums and counts; buckets before `first_ms` were trimmed. Forecasts read
    the means; the durable log keeps each bucket's maximum too, for the questions that
    need peaks, so memory does not.
    """

    __slots__ = ("first_ms", "open_counts", "open_sums", "sealed", "start_ms")

    def __init__(self) -> None:
        # Empty (shared, read-only) until the first fold replaces them. Series that have
        # not aged out yet share one empty _Aggregates instead (_NO_AGGREGATES below).
        self.start_ms = 0
        self.first_ms = 0
        self.sealed: list[bytes] = []
        self.open_sums = _NO_FLOATS
        self.open_counts = _NO_COUNTS

    @classmethod
    def of(cls, starts: np.ndarray, sums: np.ndarray, counts: np.ndarray) -> _Aggregates:
        """From buckets listed by start time (sorted, as the durable log returns them)."""
        aggregates = cls()
        if len(starts):
            aggregates.start_ms = aggregates.first_ms = int(starts[0])
            index = (starts - starts[0]) // BUCKET_MS
            aggregates.open_sums = np.zeros(int(index[-1]) + 1)
            aggregates.open_counts = np.zeros(int(index[-1]) + 1, dtype=np.int32)
            aggregates.open_sums[index] = sums
            aggregates.open_counts[index] = counts
            aggregates._seal()
        return aggregates

    @property
    def _stored(self) -> int:
        return len(self.sealed) * BLOCK_BUCKETS + len(self.open_counts)

    @property
    def size(self) -> int:
        """Buckets held, from first_ms on."""
        return self._stored - (self.first_ms - self.start_ms) // BUCKET_MS

    @property
    def last_start_ms(self) -> int:
        return self.start_ms + (self._stored - 1) * BUCKET_MS

    def _all(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(means, sums, counts) of every held bucket, from first_ms on."""
        if self.sealed:
            offsets = np.cumsum([0, *map(len, self.sealed)], dtype=np.int64)
            sealed_means, sealed_counts = gorilla.decode_many_buckets(
                np.frombuffer(b"".join(self.sealed), dtype=np.uint8), offsets)
        else:
            sealed_means, sealed_counts = _NO_FLOATS, _NO_TIMES
        counts = np.concatenate([sealed_counts, self.open_counts]).astype(np.int64)
        sums = np.concatenate([sealed_means * sealed_counts, self.open_sums])
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.concatenate([sealed_means, self.open_sums / self.open_counts])
        skip = (self.first_ms - self.start_ms) // BUCKET_MS
        return means[skip:], sums[skip:], counts[skip:]

    @property
    def counts(self) -> np.ndarray:
        return self._all()[2]

    @property
    def sums(self) -> np.ndarray:
        """Sums (sealed blocks' from their means: to their precision)."""
        return self._all()[1]

    def fold(self, timestamps: np.ndarray, values: np.ndarray) -> None:
        """Add sorted samples; they are never older than what was folded before, except
        within the last bucket, which they extend (anything older is dropped)."""
        if not self._stored:
            self.start_ms = self.first_ms = int(timestamps[0] - timestamps[0] % BUCKET_MS)
            self.sealed = []
        open_start = self.start_ms + len(self.sealed) * BLOCK_BUCKETS * BUCKET_MS
        index = (timestamps - open_start) // BUCKET_MS
        keep = index >= len(self.open_counts) - 1
        index, values = index[keep], values[keep]
        if not len(index):
            return
        size = len(self.open_counts)
        grown = int(index[-1]) + 1 - size
        if grown > 0:
            self.open_sums = np.concatenate([self.open_sums, np.zeros(grown)])
            self.open_counts = np.concatenate([self.open_counts, np.zeros(grown, dtype=np.int32)])
            size += grown
        self.open_sums += np.bincount(index, weights=values, minlength=size)
        self.open_counts += np.bincount(index, minlength=size).astype(np.int32)
        self._seal()

    def _seal(self) -> None:
        """Seal whole blocks of the open buckets, always leaving the last one open."""
        while len(self.open_counts) > BLOCK_BUCKETS:
            sums, counts = self.open_sums[:BLOCK_BUCKETS], self.open_counts[:BLOCK_BUCKETS]
            with np.errstate(invalid="ignore", divide="ignore"):
                means = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
            self.sealed.append(gorilla.encode_buckets(means, counts.astype(np.int64)).tobytes())
            self.open_sums = self.open_sums[BLOCK_BUCKETS:].copy()
            self.open_counts = self.open_counts[BLOCK_BUCKETS:].copy()

    def trim(self, oldest_ms: int) -> None:
        """Drop the buckets that end before oldest_ms, and empty ones left in front."""
        if not self.size:
            return
        start = max(0, -(-(oldest_ms - BUCKET_MS + 1 - self.start_ms) // BUCKET_MS))
        first = max(start, (self.first_ms - self.start_ms) // BUCKET_MS)
        block_ms = BLOCK_BUCKETS * BUCKET_MS
        while True:  # past empty buckets, block by block
            block = first // BLOCK_BUCKETS
            if block < len(self.sealed):
                counts = gorilla.decode_buckets(np.frombuffer(self.sealed[block], dtype=np.uint8))[1]
                offset = first - block * BLOCK_BUCKETS
            else:
                counts, offset = self.open_counts, first - len(self.sealed) * BLOCK_BUCKETS
            nonempty = np.flatnonzero(counts[offset:])
            if len(nonempty):
                first += int(nonempty[0])
                break
            first += len(counts) - offset
            if block >= len(self.sealed):
                break
        if first >= self._stored:  # nothing held any more
            self.start_ms = self.first_ms = self.start_ms + first * BUCKET_MS
            self.sealed, self.open_sums, self.open_counts = [], _NO_FLOATS, _NO_COUNTS
            return
        dropped = min(first // BLOCK_BUCKETS, len(self.sealed))
        if dropped:
            del self.sealed[:dropped]
            self.start_ms += dropped * block_ms
            first -= dropped * BLOCK_BUCKETS
        if not self.sealed and first:
            self.open_sums, self.open_counts = self.open_sums[first:], self.open_counts[first:]
            self.start_ms += first * BUCKET_MS
            first = 0
        self.first_ms = self.start_ms + first * BUCKET_MS

    def means(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean of each bucket that holds samples, stamped at the bucket's middle."""
        means, _, counts = self._all()
        held = np.flatnonzero(counts)
        return self.first_ms + held * BUCKET_MS + BUCKET_MS // 2, means[held]


_NO_AGGREGATES = _Aggregates()


class _SeriesBuffer:
    __slots__ = ("aggregates", "chunks", "heads", "slot")

    def __init__(self, heads: Heads) -> None:
        # Sealed raw chunks, oldest first; None until the first is sealed.
        self.chunks: list[bytes] | None = None
        # The open head: column `slot` of `heads`, its first `size` samples newer than
        # the chunks'.
        self.heads = heads
        self.slot = heads.add()
        # Shared and empty until samples first age out: most series of a young server
        # never do, and an object per series adds up over a hundred thousand of them.
        self.aggregates = _NO_AGGREGATES

    @property
    def size(self) -> int:
        return int(self.heads.sizes[self.slot])

    def _head(self) -> tuple[np.ndarray, np.ndarray]:
        """The head's samples (views: valid until the next append)."""
        size = self.size
        return self.heads.times[:size, self.slot], self.heads.values[:size, self.slot]

    @property
    def raw_count(self) -> int:
        return self.size + sum(map(_chunk_count, self.chunks or ()))

    def raw(self) -> tuple[np.ndarray, np.ndarray]:
        """Every raw sample held, oldest first (decoded: a copy)."""
        times, values = _decode(self.chunks or [])
        head_times, head_values = self._head()
        return np.concatenate([times, head_times]), np.concatenate([values, head_values])

    def last_sample(self) -> tuple[int, float] | None:
        """The newest raw sample (time, value), without decoding more than its chunk."""
        if self.size:
            head_times, head_values = self._head()
            return int(head_times[-1]), float(head_values[-1])
        if self.chunks:
            times, values = gorilla.decode_samples(np.frombuffer(self.chunks[-1], dtype=np.uint8))
            return int(times[-1]), float(values[-1])
        return None

    def _newest_ms(self) -> int | None:
        if self.size:
            return int(self.heads.times[self.size - 1, self.slot])
        return _chunk_last_ms(self.chunks[-1]) if self.chunks else None

    def oldest_ms(self) -> int:
        return _chunk_first_ms(self.chunks[0]) if self.chunks else int(self.heads.times[0, self.slot])

    def append(self, timestamps: np.ndarray, values: np.ndarray,
               limits: MemoryLimits) -> tuple[np.ndarray, int]:
        """Merge samples in; return (the timestamps stored, how many were skipped).
        (Batches of ingest take head_kernels.append_heads first, which appends the common
        case as this would.)"""
        try:
            return self._append(timestamps, values, limits)
        finally:
            self.publish(limits)

    def _append(self, timestamps: np.ndarray, values: np.ndarray,
                limits: MemoryLimits) -> tuple[np.ndarray, int]:
        newest = self._newest_ms()
        if len(timestamps) == 1 and (newest is None or timestamps[0] > newest) \
                and (not self.aggregates.size or timestamps[0] >= self.aggregates.last_start_ms + BUCKET_MS):
            # The common case, one new sample per series per scrape: no sorting or merging.
            self._extend(timestamps, values)
            # The sample cap is checked as the head fills (a chunk's worth over at most).
            if self.size >= HEAD_SAMPLES or self.size > limits.max_raw_samples \
                    or self.oldest_ms() < timestamps[0] - limits.raw_window_ms - BUCKET_MS:
                self._age(limits)
            return timestamps, 0
        order = np.argsort(timestamps, kind="stable")
        timestamps, values = timestamps[order], values[order]
        # Within one write, the first sample of a timestamp wins.
        first = np.ones(len(timestamps), dtype=bool)
        first[1:] = timestamps[1:] != timestamps[:-1]
        late = newest is not None and timestamps[0] <= newest
        if late:
            # Late or resent samples: drop those already held, merge the rest in order.
            held_ts, held_values = self.raw()
            first &= ~np.isin(timestamps, held_ts)
        if self.aggregates.size:
            # Samples older than the raw window were already folded into aggregates.
            first &= timestamps >= self.aggregates.last_start_ms + BUCKET_MS
        new_ts, new_values = timestamps[first], values[first]
        stored = len(new_ts)
        skipped = len(timestamps) - stored
        if not stored:
            return new_ts, skipped
        if late and new_ts[0] <= newest:
            merged_ts = np.concatenate([held_ts, new_ts])
            merged_values = np.concatenate([held_values, new_values])
            order = np.argsort(merged_ts, kind="stable")
            self.chunks = None
            self.heads.sizes[self.slot] = 0
            self._extend(merged_ts[order], merged_values[order])
        else:
            self._extend(new_ts, new_values)
        self._age(limits)
        return new_ts, skipped

    def _extend(self, timestamps: np.ndarray, values: np.ndarray) -> None:
        """Add samples newer than all held; whole chunks that fill are sealed on the way
        (the head's column holds HEAD_SAMPLES)."""
        size = self.size
        if size + len(timestamps) > HEAD_SAMPLES:
            head_times, head_values = self._head()
            timestamps = np.concatenate([head_times, timestamps])
            values = np.concatenate([head_values, values])
            whole = (len(timestamps) - 1) // HEAD_SAMPLES * HEAD_SAMPLES  # leaves 1 to 120 open
            if self.chunks is None:
                self.chunks = []
            for start in range(0, whole, HEAD_SAMPLES):
                self.chunks.append(_encode(timestamps[start: start + HEAD_SAMPLES],
                                           values[start: start + HEAD_SAMPLES]))
            timestamps, values, size = timestamps[whole:], values[whole:], 0
        needed = size + len(timestamps)
        self.heads.times[size:needed, self.slot] = timestamps
        self.heads.values[size:needed, self.slot] = values
        self.heads.sizes[self.slot] = needed

    def _seal(self) -> None:
        """Compress a full head into a chunk."""
        if self.size >= HEAD_SAMPLES:
            if self.chunks is None:
                self.chunks = []
            self.chunks.append(_encode(*self._head()))
            self.heads.sizes[self.slot] = 0

    def _drop_head(self, count: int) -> None:
        head_times, head_values = self._head()
        keep = len(head_times) - count
        head_times[:keep] = head_times[count:].copy()
        head_values[:keep] = head_values[count:].copy()
        self.heads.sizes[self.slot] = keep

    def publish(self, limits: MemoryLimits) -> None:
        """Note in `heads` what the kernel needs to append to this series (after a change
        the Python path made)."""
        heads, slot = self.heads, self.slot
        newest = self._newest_ms()
        heads.raw_counts[slot] = self.raw_count
        heads.newest[slot] = NO_TIME if newest is None else newest
        heads.oldest[slot] = self.oldest_ms() if newest is not None else 0
        aggregates = self.aggregates
        heads.floor[slot] = aggregates.last_start_ms + BUCKET_MS if aggregates.size else NO_TIME
        heads.trim_after[slot] = aggregates.first_ms + limits.downsampled_window_ms + BUCKET_MS - 1 \
            if aggregates.size else NEVER

    def _age(self, limits: MemoryLimits) -> None:
        """Seal full chunks, then fold raw samples out of the raw window (by age or count)
        into aggregates.

        The cut falls on a bucket boundary so a bucket is folded whole, except when
        the sample cap forces a cut inside one.
        """
        self._seal()
        newest = self._newest_ms()
        if newest is None:
            return
        cut_time = newest - limits.raw_window_ms
        cut_time -= cut_time % BUCKET_MS
        excess = self.raw_count - limits.max_raw_samples
        folded: list[tuple[np.ndarray, np.ndarray]] = []
        while self.chunks and (excess > 0 or _chunk_first_ms(self.chunks[0]) < cut_time):
            times, values = gorilla.decode_samples(np.frombuffer(self.chunks[0], dtype=np.uint8))
            cut = max(int(np.searchsorted(times, cut_time)), min(excess, len(times)))
            folded.append((times[:cut], values[:cut]))
            excess -= cut
            if cut < len(times):
                self.chunks[0] = _encode(times[cut:], values[cut:])
                break
            del self.chunks[0]
        if not self.chunks:
            self.chunks = None
            head_times, head_values = self._head()
            cut = max(int(np.searchsorted(head_times, cut_time)), min(excess, len(head_times)))
            if cut > 0:
                folded.append((head_times[:cut].copy(), head_values[:cut].copy()))
                self._drop_head(cut)
        if folded:
            if self.aggregates is _NO_AGGREGATES:
                self.aggregates = _Aggregates()
            self.aggregates.fold(np.concatenate([times for times, _ in folded]),
                                 np.concatenate([values for _, values in folded]))
        self.aggregates.trim(newest - limits.downsampled_window_ms)

    def window(self) -> tuple[np.ndarray, np.ndarray]:
        """Aggregated means (stamped at their bucket's middle) followed by raw samples."""
        means_ts, means = self.aggregates.means()
        raw_ts, raw_values = self.raw()
        return np.concatenate([means_ts, raw_ts]), np.concatenate([means, raw_values])


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
        self._heads = Heads()
        self._buffers: list[_SeriesBuffer] = []  # by slot
        # Forecasts read from executor threads while ingest appends on the event loop.
        self._lock = threading.Lock()
        self.append_batch(SampleBatch.of_writes([]))  # loads its kernel now, not at the first batch

    async def append(self, writes: list[SeriesWrite]) -> AppendResult:
        return await asyncio.to_thread(self.append_now, writes)

    # Ingest's split append (base.StagingStore): all of it happens in ingest's worker
    # thread, so a batch crosses threads once.
    def append_to_memory(self, batch: SampleBatch) -> AppendResult:
        return self.append_batch(batch)

    async def commit(self, batch: SampleBatch, staged: AppendResult) -> None:
        return None

    def append_now(self, writes: list[SeriesWrite]) -> AppendResult:
        return self.append_batch(SampleBatch.of_writes(writes))

    def append_batch(self, batch: SampleBatch) -> AppendResult:
        """Append a batch's samples; fills in batch.slots (of series with samples).

        Its series' heads take them in one kernel call where nothing else changes (one new
        sample a series, in order); the rest go through each series' own append. The
        result's `taken` lists, when called, the timestamps stored per series.
        """
        limits, heads = self.limits, self._heads
        ends, times, values = batch.ends, batch.timestamps_ms, batch.values
        with self._lock:
            slots = self._slots(batch)
            outcome = append_heads(slots, ends, times, values, heads.times, heads.values,
                                   heads.sizes, heads.newest, heads.oldest, heads.floor,
                                   heads.raw_counts, heads.trim_after, heads.deferred_in,
                                   heads.next_batch(), limits.raw_window_ms, BUCKET_MS,
                                   limits.max_raw_samples)
            stored = int(outcome[outcome > 0].sum())
            skipped = 0
            deferred = np.flatnonzero(outcome == DEFERRED)
            partly: dict[int, np.ndarray] = {}  # deferred series of which some were skipped
            for position in deferred.tolist():
                start, end = batch.span(position)
                added, dropped = self._buffers[slots[position]].append(
                    times[start:end], values[start:end], limits)
                stored += len(added)
                skipped += dropped
                if dropped:
                    partly[position] = added
                else:  # all taken, as the kernel's are (keeping `added` costs RSS: bench/store_memory.py)
                    outcome[position] = len(added)
        return AppendResult(stored, skipped, partial(_taken, batch, outcome, partly))

    def _slots(self, batch: SampleBatch) -> np.ndarray:
        """batch.slots, those not known yet looked up, and series new to the store added
        (only series with samples: one without is not created)."""
        slots = batch.slots
        if slots is None:
            slots = np.full(len(batch.keys), -1, dtype=np.int64)
        unknown = np.flatnonzero(slots < 0)
        if len(unknown):
            for position in unknown.tolist():
                start, end = batch.span(position)
                if start == end:
                    continue
                key = batch.keys[position]
                buffer = self._buffer(key) or self._add(key, _SeriesBuffer(self._heads))
                slots[position] = buffer.slot
        batch.slots = slots
        return slots

    def restore(self, key: SeriesKey, bucket_starts: np.ndarray, bucket_sums: np.ndarray,
                bucket_counts: np.ndarray, timestamps_ms: np.ndarray, values: np.ndarray) -> None:
        """Load one series from the durable log at start-up (aggregates, then raw samples)."""
        with self._lock:
            buffer = _SeriesBuffer(self._heads)
            if len(bucket_starts):
                buffer.aggregates = _Aggregates.of(bucket_starts, bucket_sums, bucket_counts)
            self._add(key, buffer)
            if len(timestamps_ms):
                buffer.append(timestamps_ms, values, self.limits)
            else:
                buffer.publish(self.limits)

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
            aggregates = buffer.aggregates
            last = buffer.last_sample()
            if last is None:  # everything aged out: the last bucket's mean
                means_ts, means = aggregates.means()
                if not len(means_ts):
                    return None
                last = int(means_ts[-1]), float(means[-1])
            first = aggregates.first_ms if aggregates.size else buffer.oldest_ms()
            return SeriesSummary(
                key=key,
                sample_count=buffer.raw_count + (int(aggregates.counts.sum()) if aggregates.size else 0),
                first_timestamp_ms=first,
                last_timestamp_ms=last[0],
                last_value=last[1],
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
        self._buffers.append(buffer)  # at its slot: slots are handed out in this order
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


def _taken(batch: SampleBatch, outcome: np.ndarray,
           partly: dict[int, np.ndarray]) -> list[tuple[SeriesKey, np.ndarray]]:
    """The timestamps append_batch stored, per series: all of a series whose outcome counts
    its samples, those its own append stored of one partly skipped."""
    taken = []
    for position in np.flatnonzero(outcome > 0).tolist():
        start, end = batch.span(position)
        taken.append((batch.keys[position], batch.timestamps_ms[start:end].copy()))
    taken.extend((batch.keys[position], added) for position, added in partly.items() if len(added))
    return taken
