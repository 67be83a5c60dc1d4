"""When an outlook reaches a threshold, and how likely that is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infracast.server.answers.outlook import Outlook
from infracast.server.forecast.crossing_kernels import reach_cdf


@dataclass(frozen=True)
class Crossing:
    """Times in ms since the epoch; None means no crossing within the searched horizon."""

    expected_ms: int | None
    earliest_ms: int | None
    latest_ms: int | None
    already_crossed: bool
    # Probability that some sample within the searched horizon is at or beyond the
    # threshold, read from the unclipped predictive distribution with sample noise
    # taken into account (see crossing_kernels).
    probability: float


def find_crossing(outlook: Outlook, threshold: float, rising: bool, level: float) -> Crossing:
    """When the series first reaches the threshold: the median of the first-crossing time
    (expected) and its (1 -+ level) / 2 quantiles (earliest, latest), and the probability of
    reaching it within the outlook.

    The first-crossing distribution comes from the unclipped predictive distribution with
    sample noise taken into account (crossing_kernels); for a series moving one way it is
    where the point forecast and its bounds cross, for a noisy one it comes earlier, as
    the first touch does.
    """
    start_ms = outlook.last_timestamp_ms
    already = outlook.last_value >= threshold if rising else outlook.last_value <= threshold
    if already:
        return Crossing(int(start_ms), int(start_ms), int(start_ms), True, 1.0)
    cdf = first_crossing_cdf(outlook, threshold, rising)
    tail = (1.0 - level / 100.0) / 2.0

    def when(share: float) -> int | None:
        return _time_at(start_ms, outlook.timestamps_ms, cdf, share)

    return Crossing(expected_ms=when(0.5), earliest_ms=when(tail), latest_ms=when(1.0 - tail),
                    already_crossed=False, probability=float(cdf[-1]))


def first_crossing_cdf(outlook: Outlook, threshold: float, rising: bool) -> np.ndarray:
    """P(the threshold is reached by each point of the outlook) (k,), non-decreasing; at
    least each point's own probability of being beyond it."""
    previous = np.concatenate([[outlook.last_timestamp_ms], outlook.timestamps_ms[:-1]])
    samples = (outlook.timestamps_ms - previous) / max(outlook.plan.sample_interval_ms, 1)
    cdf = reach_cdf(threshold - outlook.raw_mean, np.ascontiguousarray(outlook.error_quantiles),
                    outlook.probabilities, samples.astype(np.float64), outlook.noise_sd, rising)
    cdf = np.maximum(cdf, outlook.exceedance(threshold, rising))
    return np.minimum(np.maximum.accumulate(cdf), 1.0)


def _time_at(start_ms: int, times_ms: np.ndarray, cdf: np.ndarray, share: float) -> int | None:
    """The first time the cdf reaches share, interpolated between points; None if it does not."""
    reached = np.flatnonzero(cdf >= share)
    if len(reached) == 0:
        return None
    i = int(reached[0])
    t0, c0 = (start_ms, 0.0) if i == 0 else (int(times_ms[i - 1]), float(cdf[i - 1]))
    t1, c1 = int(times_ms[i]), float(cdf[i])
    fraction = (share - c0) / (c1 - c0) if c1 > c0 else 1.0
    return round(t0 + fraction * (t1 - t0))
