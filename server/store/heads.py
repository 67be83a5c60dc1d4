"""Every series' open head of raw samples, in contiguous arrays indexed by series slot.

One column a series (HEAD_SAMPLES long) instead of an array object each: a batch appends
to all its series' heads in one kernel call (head_kernels.append_heads), and a hundred
thousand series hold no hundred thousand array headers. Sample i of every head sits in
row i, so memory pages are taken as heads fill (a young server's few samples a series
take a few rows), and columns not yet handed out are never touched. Capacity doubles as
slots are handed out; only the rows some head uses are copied then.
"""

from __future__ import annotations

import numpy as np

from infracast.server.store.head_kernels import NEVER, NO_TIME

# Samples an open head holds before it is sealed into a compressed chunk: 20 minutes at
# 10 s. Every series' column holds as many (16 bytes each), so larger chunks would
# compress a little better but hold more of every series plain.
HEAD_SAMPLES = 120

# The per-slot arrays and what a slot not handed out holds. `deferred_in`: the number of
# the last batch in which the kernel left the slot to the Python path (so a later series
# of the same slot in that batch is left there too, in the order sent).
_PER_SLOT = (("sizes", 0), ("newest", NO_TIME), ("oldest", 0), ("floor", NO_TIME),
             ("raw_counts", 0), ("trim_after", NEVER), ("deferred_in", 0))


class Heads:
    """Per slot: the head's samples (times, values: column `slot`) and size, and what
    the kernel needs to know to append without the Python path (head_kernels)."""

    sizes: np.ndarray
    newest: np.ndarray
    oldest: np.ndarray
    floor: np.ndarray
    raw_counts: np.ndarray
    trim_after: np.ndarray
    deferred_in: np.ndarray

    def __init__(self, capacity: int = 64) -> None:
        self.count = 0
        self.batches = 0  # batches appended, numbering them for `deferred_in`
        self.times = np.empty((HEAD_SAMPLES, capacity), dtype=np.int64)
        self.values = np.empty((HEAD_SAMPLES, capacity), dtype=np.float64)
        for name, fill in _PER_SLOT:
            setattr(self, name, np.full(capacity, fill, dtype=np.int64))

    def next_batch(self) -> int:
        """A number for the batch about to be appended (the kernel marks deferred slots with it)."""
        self.batches += 1
        return self.batches

    def add(self) -> int:
        """A new, empty slot."""
        slot = self.count
        if slot == len(self.sizes):
            self._grow(2 * slot)
        self.count += 1
        return slot

    def _grow(self, capacity: int) -> None:
        used = self.count
        rows = int(self.sizes[:used].max()) if used else 0
        for name in ("times", "values"):
            old = getattr(self, name)
            grown = np.empty((HEAD_SAMPLES, capacity), dtype=old.dtype)
            grown[:rows, :used] = old[:rows, :used]
            setattr(self, name, grown)
        for name, fill in _PER_SLOT:
            old = getattr(self, name)
            grown = np.full(capacity, fill, dtype=np.int64)
            grown[:used] = old[:used]
            setattr(self, name, grown)
