"""Every series' open head of raw samples, in contiguous arrays indexed by series slot.

One row a series (HEAD_SAMPLES wide) instead of an array object each: a batch appends to
all its series' heads in one kernel call (head_kernels.append_heads), and a hundred
thousand series hold no hundred thousand array headers. Rows are allocated as slots are
handed out, capacity doubling; rows not yet handed out are never touched, so they take
address space, not memory.
"""

from __future__ import annotations

import numpy as np

from infracast.server.store.head_kernels import NEVER, NO_TIME

# Samples an open head holds before it is sealed into a compressed chunk: 20 minutes at
# 10 s. Every series' row holds as many (16 bytes each), so larger chunks would compress a
# little better but hold more of every series plain.
HEAD_SAMPLES = 120


class Heads:
    """Per slot: the head's samples (times, values) and size, and what the kernel needs
    to know to append without the Python path (head_kernels' docstring)."""

    def __init__(self, capacity: int = 64) -> None:
        self.count = 0
        self.times = np.empty((capacity, HEAD_SAMPLES), dtype=np.int64)
        self.values = np.empty((capacity, HEAD_SAMPLES), dtype=np.float64)
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
        for name in ("times", "values"):
            old = getattr(self, name)
            grown = np.empty((capacity, HEAD_SAMPLES), dtype=old.dtype)
            grown[:used] = old[:used]
            setattr(self, name, grown)
        for name, fill in (("sizes", 0), ("newest", NO_TIME), ("oldest", 0), ("floor", NO_TIME),
                           ("raw_counts", 0), ("trim_after", NEVER)):
            old = getattr(self, name)
            grown = np.full(capacity, fill, dtype=np.int64)
            grown[:used] = old[:used]
            setattr(self, name, grown)
