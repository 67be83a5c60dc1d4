"""Appending a whole batch to the open heads of its series in one kernel call.

Every series' open head (memory.py) lives in one row of two big arrays indexed by the
series' slot, with what the common case needs to know per slot beside it: the head's
size, the newest and oldest raw timestamps, the first timestamp aggregates no longer
take, the raw sample count and the last timestamp that leaves the aggregates untrimmed.
The kernel appends the series whose samples simply extend their head without sealing,
folding or trimming anything (nearly all of them: one new sample per series a scrape)
and leaves the rest to memory.py's Python path, which decides exactly as before.
"""

from __future__ import annotations

import numpy as np

from infracast.server.forecast.jit import kernel

# Outcome of a series the kernel left to the Python path.
DEFERRED = -1
# `newest` of a slot with no raw sample, `trim_after` of one without aggregates.
NO_TIME = np.iinfo(np.int64).min
NEVER = np.iinfo(np.int64).max


@kernel
def append_heads(slots: np.ndarray, ends: np.ndarray, timestamps: np.ndarray, values: np.ndarray,
                 head_times: np.ndarray, head_values: np.ndarray, sizes: np.ndarray,
                 newest: np.ndarray, oldest: np.ndarray, floor: np.ndarray, raw_counts: np.ndarray,
                 trim_after: np.ndarray, deferred_in: np.ndarray, batch_number: int,
                 raw_window_ms: int, bucket_ms: int, max_raw_samples: int) -> np.ndarray:
    """Append each series' samples to its head where nothing else has to change.

    Parameters
    ----------
    slots : int64 (n_series,), each series' slot (rows of the per-slot arrays).
    ends : int64 (n_series,), where each series' samples end in timestamps and values.
    timestamps : int64 (n_samples,), values : float64 (n_samples,).
    head_times : int64 (head_samples, n_slots), head_values : float64 (same), the heads;
        column s holds sizes[s] samples.
    sizes, newest, oldest, floor, raw_counts, trim_after : int64 (n_slots,), per slot (see
        the module docstring; raw_counts are the head's and the sealed chunks' samples);
        updated for the series appended.
    deferred_in : int64 (n_slots,), per slot the batch_number of the last batch in which
        it was deferred; set here for the slots deferred (an O(1) test per series, however
        many are deferred: heads that fill together fill in the same batch).
    batch_number : this batch's number, never used before with these arrays.
    raw_window_ms, bucket_ms, max_raw_samples : the memory store's limits.

    Returns
    -------
    int64 (n_series,): samples stored of each series, or DEFERRED where the Python path
    must append it (out of order, duplicate, a head that fills, samples to fold or to
    trim). Once a slot's series is deferred, its later series in the batch are too, so
    that the Python path sees them in the order sent.
    """
    head_samples = head_times.shape[0]
    outcome = np.empty(len(slots), dtype=np.int64)
    start = 0
    for series in range(len(slots)):
        end = ends[series]
        count = end - start
        slot = slots[series]
        fits = count > 0 and sizes[slot] + count < head_samples and timestamps[start] > newest[slot] \
            and timestamps[start] >= floor[slot]
        for position in range(start + 1, end):
            if not fits:
                break
            fits = timestamps[position] > timestamps[position - 1]
        if fits:
            first = timestamps[start]
            last = timestamps[end - 1]
            held_from = oldest[slot] if raw_counts[slot] > 0 else first
            if count == 1:  # as one sample always went: aged once the oldest is well out
                fits = sizes[slot] + 1 <= max_raw_samples and held_from >= last - raw_window_ms - bucket_ms
            else:  # as several always went: aged at once, so only if that changes nothing
                cut = last - raw_window_ms
                cut -= cut % bucket_ms
                fits = raw_counts[slot] + count <= max_raw_samples and held_from >= cut \
                    and last <= trim_after[slot]
        if fits and deferred_in[slot] == batch_number:
            fits = False
        if count == 0:
            outcome[series] = 0
        elif not fits:
            outcome[series] = DEFERRED
            deferred_in[slot] = batch_number
        else:
            first = timestamps[start]
            size = sizes[slot]
            for position in range(start, end):
                head_times[size, slot] = timestamps[position]
                head_values[size, slot] = values[position]
                size += 1
            if raw_counts[slot] == 0:
                oldest[slot] = first
            sizes[slot] = size
            raw_counts[slot] += count
            newest[slot] = timestamps[end - 1]
            outcome[series] = count
        start = end
    return outcome
