"""Where the series' current behaviour began: history before a level shift misleads a forecast.

A big file written two hours ago drops a disk's free space by 20 % at once, then it stays
flat. Fitted over the whole history, trend models read the drop as a slope and call the
disk full tomorrow. When one level step explains the history far better than a straight
line does, only the samples since the step describe what the series does now (the new
level becomes normal; the answer says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from infracast.server.forecast.grid import counter_rate

STEP_EXPLAINS = 0.2  # the step's squared error must be below this share of the line's
MIN_SHARE_AFTER = 0.05  # the new regime must hold at least this share of the history ...
MIN_SAMPLES_AFTER = 30  # ... and this many samples
CANDIDATES = 400  # break points tried, evenly spread


def regime_start(times_ms: np.ndarray, values: np.ndarray) -> int:
    """Index of the first sample of the current regime (0 when the history is one regime)."""
    n = len(values)
    least_after = max(MIN_SAMPLES_AFTER, int(MIN_SHARE_AFTER * n))
    if n < 2 * least_after:
        return 0
    y = values - values.mean()
    t = (times_ms - times_ms[0]).astype(np.float64)
    t -= t.mean()
    sxx = float(t @ t)
    line_sse = float(y @ y) - (float(t @ y) ** 2 / sxx if sxx > 0 else 0.0)
    if line_sse <= 0:
        return 0
    breaks = np.unique(np.linspace(least_after, n - least_after, CANDIDATES).astype(np.int64))
    total, total_sq = np.cumsum(y), np.cumsum(y * y)
    before_n, after_n = breaks.astype(np.float64), (n - breaks).astype(np.float64)
    before_sum = total[breaks - 1]
    after_sum = total[-1] - before_sum
    sse = total_sq[-1] - before_sum**2 / before_n - after_sum**2 / after_n
    best = int(np.argmin(sse))
    if sse[best] < STEP_EXPLAINS * line_sse:
        return int(breaks[best])
    return 0


@dataclass(frozen=True)
class History:
    """What a forecast is made from: the raw samples since the last level shift (all of them
    when there was none), the same as usable values (finite, counters as per-second rates),
    and a note saying what was left out ("" when nothing was)."""

    timestamps_ms: np.ndarray
    values: np.ndarray
    usable_times_ms: np.ndarray
    usable_values: np.ndarray
    note: str


def usable_samples(timestamps_ms: np.ndarray, values: np.ndarray,
                   is_counter: bool) -> tuple[np.ndarray, np.ndarray]:
    """Finite samples; counters as their per-second rate."""
    finite = np.isfinite(values)
    times, usable = timestamps_ms[finite], values[finite]
    return counter_rate(times, usable) if is_counter else (times, usable)


def current_history(timestamps_ms: np.ndarray, values: np.ndarray, is_counter: bool) -> History:
    """The history since the last level shift; for counters the shift is looked for in the rate."""
    times, usable = usable_samples(timestamps_ms, values, is_counter)
    start = regime_start(times, usable)
    if start == 0:
        return History(timestamps_ms, values, times, usable, "")
    cut_ms = int(times[start])
    first = int(np.searchsorted(timestamps_ms, cut_ms))
    if is_counter:
        first = max(first - 1, 0)  # the sample before, so the first rate is there
    moment = datetime.fromtimestamp(cut_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return History(timestamps_ms[first:], values[first:], times[start:], usable[start:],
                   f"history since a level shift at {moment} (the new level is taken as normal; "
                   "earlier samples are left out)")
