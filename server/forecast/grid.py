"""Turn raw samples (irregular times, gaps, counters) into a regular grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Grid:
    """Values on equally spaced times ending at the last sample; oldest first."""

    timestamps_ms: np.ndarray
    values: np.ndarray
    step_ms: int
    filled: int  # how many grid points had no sample and were interpolated


def counter_rate(timestamps_ms: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-second rate between consecutive counter samples, stamped at the later one.

    A decrease is a counter reset (a restart): as in Prometheus, the counter is
    taken to have started again from zero, so the increase is the new value.
    """
    seconds = np.diff(timestamps_ms) / 1000.0
    increase = np.diff(values)
    reset = increase < 0
    increase[reset] = values[1:][reset]
    keep = seconds > 0
    return timestamps_ms[1:][keep], increase[keep] / seconds[keep]


def native_step_ms(timestamps_ms: np.ndarray) -> int:
    """The series' usual sampling interval: the median spacing, at least 1 ms."""
    if len(timestamps_ms) < 2:
        return 1000
    return max(int(np.median(np.diff(timestamps_ms))), 1)


def to_grid(timestamps_ms: np.ndarray, values: np.ndarray, step_ms: int, max_points: int) -> Grid:
    """Take the last sample in each bin of step_ms ending at the last sample; interpolate empty bins.

    The last sample, not the bin mean, because a mean sits half a bin in the past
    and would make every trend lag (Prometheus evaluates a step the same way).
    timestamps_ms must be sorted ascending and values finite, both non-empty.
    Only the newest max_points bins are kept.
    """
    last = int(timestamps_ms[-1])
    age_bins = (last - timestamps_ms) // step_ms  # 0 for the newest bin
    keep = age_bins < max_points
    age_bins, kept_values = age_bins[keep], values[keep]
    count = int(age_bins.max()) + 1
    index = count - 1 - age_bins
    last_in_bin = np.flatnonzero(np.r_[index[1:] != index[:-1], True])
    grid_times = last - (count - 1 - np.arange(count, dtype=np.int64)) * step_ms
    occupied = np.zeros(count, dtype=bool)
    occupied[index[last_in_bin]] = True
    grid_values = np.empty(count)
    grid_values[index[last_in_bin]] = kept_values[last_in_bin]
    if not occupied.all():
        grid_values[~occupied] = np.interp(
            grid_times[~occupied], grid_times[occupied], grid_values[occupied]
        )
    return Grid(grid_times, grid_values, step_ms, int((~occupied).sum()))
