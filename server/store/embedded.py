"""The embedded store (the default backend): in-memory windows made durable by a log.

append() returns only after the samples are committed to the SQLite log, so an
acknowledged sample survives kill -9; open() replays the log into memory before
the server reports ready.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from infracast.server.selector import Selector
from infracast.server.series import SeriesKey
from infracast.server.store.base import (
    AppendResult,
    CommitFailed,
    SampleBatch,
    SeriesSummary,
    SeriesWrite,
    Window,
)
from infracast.server.store.memory import MemoryLimits, MemoryStore
from infracast.server.store.sample_log import SampleLog
from infracast.server.store.uncommitted import UncommittedSamples

log = logging.getLogger(__name__)


class EmbeddedStore:
    def __init__(self, directory: Path, limits: MemoryLimits | None = None) -> None:
        self.memory = MemoryStore(limits)
        self.log = SampleLog(directory, self.memory.limits.raw_window_ms,
                             self.memory.limits.downsampled_window_ms)
        self.uncommitted = UncommittedSamples()
        self.replayed_samples = 0
        self.replay_seconds = 0.0

    def acquire(self) -> None:
        """Lock the data directory and open the log (raises DataDirectoryLocked)."""
        self.log.open()

    async def open(self) -> None:
        """Replay the log into memory, then start the writer."""
        started = time.perf_counter()
        self.replayed_samples = await asyncio.to_thread(self._replay)
        self.replay_seconds = time.perf_counter() - started
        self.log.start()
        log.info("replayed %d samples of %d series from %s in %.1fs", self.replayed_samples,
                 self.memory.series_count, self.log.path, self.replay_seconds)

    def _replay(self) -> int:
        count = 0
        for series in self.log.replay():
            self.memory.restore(series.key, series.bucket_starts, series.bucket_sums,
                                series.bucket_counts, series.timestamps_ms, series.values)
            count += int(series.bucket_counts.sum()) + len(series.timestamps_ms)
        return count

    async def append(self, writes: list[SeriesWrite]) -> AppendResult:
        batch = SampleBatch.of_writes(writes)
        await self.log.write(batch)
        result = self.uncommitted.recount(batch, await asyncio.to_thread(self.memory.append_batch, batch))
        self.uncommitted.committed(batch)
        return result

    # Ingest's split append (base.StagingStore): memory first, in the worker thread that
    # decoded the batch, then the commit, which the ack waits for. A commit that fails
    # leaves the samples in memory until a restart, and the agent resends them: memory
    # skips them then, as held, but the log stores them, so `uncommitted` keeps them
    # apart and the resend's ack counts them as stored.

    def append_to_memory(self, batch: SampleBatch) -> AppendResult:
        return self.uncommitted.recount(batch, self.memory.append_batch(batch))

    async def commit(self, batch: SampleBatch, staged: AppendResult) -> None:
        """After append_to_memory: the log finds the batch's series by their memory slots."""
        try:
            await self.log.write(batch)
        except CommitFailed:
            self.uncommitted.add(staged.taken())
            raise
        self.uncommitted.committed(batch)

    def select(self, selector: Selector) -> list[SeriesKey]:
        return self.memory.select(selector)

    def summary(self, key: SeriesKey) -> SeriesSummary | None:
        return self.memory.summary(key)

    def window(self, key: SeriesKey) -> Window | None:
        return self.memory.window(key)

    def has_series(self, key: SeriesKey) -> bool:
        return self.memory.has_series(key)

    def node_series_count(self, node: str) -> int:
        return self.memory.node_series_count(node)

    @property
    def series_count(self) -> int:
        return self.memory.series_count

    async def close(self) -> None:
        await asyncio.to_thread(self.log.close)
