"""When an outlook reaches a threshold, and how likely that is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infracast.server.answers.outlook import Outlook
from infracast.server.forecast.crossing_kernels import reach_probability as reach_probability_kernel


@dataclass(frozen=True)
class Crossing:
    """Times in ms since the epoch; None means no crossing within the searched horizon."""

    expected_ms: int | None
    earliest_ms: int | None
    latest_ms: int | None
    already_crossed: bool
    # Probability that some sample within the searched horizon is at or beyond the
    # threshold, read from the unclipped predictive distribution (see crossing_kernels).
    probability: float


def first_crossing_ms(
    start_ms: int, start_value: float, times_ms: np.ndarray, path: np.ndarray,
    threshold: float, rising: bool,
) -> int | None:
    """First time the path (starting at start_value at start_ms) reaches the threshold.

    Linear interpolation between points, so the answer does not jump by a whole step.
    """
    times = np.concatenate([[start_ms], times_ms]).astype(np.float64)
    values = np.concatenate([[start_value], path])
    beyond = values >= threshold if rising else values <= threshold
    hits = np.flatnonzero(beyond)
    if len(hits) == 0:
        return None
    i = int(hits[0])
    if i == 0:
        return int(start_ms)
    v0, v1 = values[i - 1], values[i]
    fraction = (threshold - v0) / (v1 - v0) if v1 != v0 else 1.0
    return round(times[i - 1] + fraction * (times[i] - times[i - 1]))


def find_crossing(outlook: Outlook, threshold: float, rising: bool, level: float) -> Crossing:
    """Expected, earliest and latest crossing at the given interval level, and its probability.

    Rising: the upper bound crosses first (earliest) and the lower bound last (latest);
    falling: the other way round. All from unclipped paths: a bound clipped at 0 bytes
    would otherwise 'reach' 0 the moment it is clipped.
    """
    start_ms, start = outlook.last_timestamp_ms, outlook.last_value
    already = start >= threshold if rising else start <= threshold
    near, far = (outlook.raw_upper, outlook.raw_lower) if rising else (outlook.raw_lower, outlook.raw_upper)

    def cross(path: np.ndarray) -> int | None:
        return first_crossing_ms(start_ms, start, outlook.timestamps_ms, path, threshold, rising)

    probability = 1.0 if already else reach_probability(outlook, threshold, rising)
    return Crossing(
        expected_ms=cross(outlook.raw_mean),
        earliest_ms=cross(near[level]),
        latest_ms=cross(far[level]),
        already_crossed=bool(already),
        probability=probability,
    )


def reach_probability(outlook: Outlook, threshold: float, rising: bool) -> float:
    """P(some sample reaches the threshold within the outlook): at least the largest
    per-point probability, more when sample noise gives the series many tries."""
    most_likely_point = float(outlook.exceedance(threshold, rising).max())
    previous = np.concatenate([[outlook.last_timestamp_ms], outlook.timestamps_ms[:-1]])
    samples = (outlook.timestamps_ms - previous) / max(outlook.plan.sample_interval_ms, 1)
    any_sample = reach_probability_kernel(
        threshold - outlook.raw_mean, np.ascontiguousarray(outlook.error_quantiles),
        outlook.probabilities, samples.astype(np.float64), outlook.noise_sd, rising)
    return min(1.0, max(most_likely_point, float(any_sample)))
