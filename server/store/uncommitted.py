"""Samples memory holds whose commit failed: what keeps a resend's ack true.

The embedded store appends a batch to memory before its commit. When the commit fails
(a full disk), memory keeps the samples, the agent resends the batch, and memory skips
them as held, although only this resend makes them durable. Kept here, per series, until
a commit stores them, they are counted as stored, not skipped, in the resend's ack.
Empty unless a commit failed, so the common path costs one truth test.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from infracast.server.series import SeriesKey
from infracast.server.store.base import AppendResult, SampleBatch


class UncommittedSamples:
    def __init__(self) -> None:
        self._times: dict[SeriesKey, np.ndarray] = {}
        # Ingest's worker thread counts; the event loop adds and removes after commits.
        self._lock = threading.Lock()

    def add(self, taken: list[tuple[SeriesKey, np.ndarray]]) -> None:
        """A commit failed: these samples, taken into memory for it, are not durable."""
        with self._lock:
            for key, times in taken:
                held = self._times.get(key)
                self._times[key] = times.copy() if held is None else np.union1d(held, times)

    def recount(self, batch: SampleBatch, result: AppendResult) -> AppendResult:
        """`result` with the samples of `batch` that memory skipped as held but no
        commit stored moved from skipped to stored (this batch's commit stores them)."""
        if not self._times:
            return result
        with self._lock:
            resent = sum(int(np.isin(write.timestamps_ms, self._times[write.key]).sum())
                         for write in batch.writes() if write.key in self._times)
        return replace(result, stored=result.stored + resent, skipped=result.skipped - resent)

    def committed(self, batch: SampleBatch) -> None:
        """The batch's commit succeeded: its samples are durable now."""
        if not self._times:
            return
        with self._lock:
            for write in batch.writes():
                held = self._times.get(write.key)
                if held is None:
                    continue
                left = held[~np.isin(held, write.timestamps_ms)]
                if len(left):
                    self._times[write.key] = left
                else:
                    del self._times[write.key]
