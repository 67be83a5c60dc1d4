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

# Samples held at most: a disk full for long while agents keep sending would otherwise
# grow this without end. Past it the oldest entries go; a resend of theirs is then acked
# as skipped (what it was before this was kept), nothing else changes.
MAX_HELD_SAMPLES = 1_000_000


class UncommittedSamples:
    def __init__(self, max_samples: int = MAX_HELD_SAMPLES) -> None:
        self._times: dict[SeriesKey, np.ndarray] = {}
        self._held = 0
        self._max_samples = max_samples
        # Ingest's worker thread counts; the event loop adds and removes after commits.
        self._lock = threading.Lock()

    def add(self, taken: list[tuple[SeriesKey, np.ndarray]]) -> None:
        """A commit failed: these samples, taken into memory for it, are not durable."""
        with self._lock:
            for key, times in taken:
                held = self._times.pop(key, None)  # re-inserted: the newest go last
                self._set(key, times.copy() if held is None else np.union1d(held, times))
            while self._held > self._max_samples:
                self._set(next(iter(self._times)), None)

    def recount(self, batch: SampleBatch, result: AppendResult) -> AppendResult:
        """`result` with the samples of `batch` that memory skipped as held but no
        commit stored moved from skipped to stored (this batch's commit stores them)."""
        if not self._times:
            return result
        with self._lock:
            resent = sum(int(np.isin(np.unique(times), held).sum())
                         for _, times, held in self._held_in(batch))
        resent = min(resent, result.skipped)
        return replace(result, stored=result.stored + resent, skipped=result.skipped - resent)

    def committed(self, batch: SampleBatch) -> None:
        """The batch's commit succeeded: its samples are durable now."""
        if not self._times:
            return
        with self._lock:
            for key, times, held in self._held_in(batch):
                left = held[~np.isin(held, times)]
                self._set(key, left if len(left) else None)

    def _held_in(self, batch: SampleBatch) -> list[tuple[SeriesKey, np.ndarray, np.ndarray]]:
        """(key, the batch's timestamps, those held) of each of its series with some held."""
        found = []
        for position, key in enumerate(batch.keys):
            held = self._times.get(key)
            if held is not None:
                start, end = batch.span(position)
                found.append((key, batch.timestamps_ms[start:end], held))
        return found

    def _set(self, key: SeriesKey, times: np.ndarray | None) -> None:
        held = self._times.pop(key, None)
        self._held -= 0 if held is None else len(held)
        if times is not None:
            self._times[key] = times
            self._held += len(times)
