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


class Heads:
    """Per slot: the head's samples (times, values: column `slot`) and size, and what
    the kernel needs to know to append without the Python path (head_kernels)."""

    def __init__(self, capacity: int = 64) -> None:
        self.count = 0
        self.times = np.empty((HEAD_SAMPLES, capacity), dtype=np.int64)
        self.values = np.empty((HEAD_SAMPLES, capacity), dtype=np.float64)
        self.sizes = np.zeros(capacity, dtype=np.int64)
        self.newest = np.full(capacity, NO_TIME, dtype=np.int64)
        self.oldest = np.zeros(capacity, dtype=np.int64)
        self.floor = np.full(capacity, NO_TIME, dtype=np.int64)
        self.raw_counts = np.zeros(capacity, dtype=np.int64)
        self.trim_after = np.full(capacity, NEVER, dtype=np.int64)

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
        for name, fill in (("sizes", 0), ("newest", NO_TIME), ("oldest", 0), ("floor", NO_TIME),
                           ("raw_counts", 0), ("trim_after", NEVER)):
            old = getattr(self, name)
            grown = np.full(capacity, fill, dtype=np.int64)
            grown[:used] = old[:used]
            setattr(self, name, grown)
