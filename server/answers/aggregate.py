"""Many series made one before forecasting: a cluster's total memory in use, the fullest disk.

Series are put on one grid at the coarsest of their sampling intervals, over the time
they all cover (a node that joined an hour ago would otherwise make the sum jump), and
combined point by point. Counters are turned into per-second rates first: the sum of
rates is the rate of the sum, the sum of raw counters is not (each resets on its own).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from infracast.server.answers.limits import Limits
from infracast.server.answers.resolution import recent_step_ms
from infracast.server.forecast.grid import counter_rate

AGGREGATIONS = ("sum", "avg", "max", "min")
_COMBINE: dict[str, Callable[..., np.ndarray]] = {"sum": np.sum, "avg": np.mean, "max": np.max,
                                                  "min": np.min}


class AggregationError(ValueError):
    """The series cannot be combined (no common time, too few samples)."""


@dataclass(frozen=True)
class Samples:
    timestamps_ms: np.ndarray
    values: np.ndarray


def aggregate(series: Sequence[Samples], how: str, counters: bool) -> Samples:
    """One series of `how` over `series` (each sorted by time), on their common time range."""
    if how not in _COMBINE:
        raise AggregationError(f"unknown aggregation {how!r}: use one of {', '.join(AGGREGATIONS)}")
    prepared = []
    for s in series:
        finite = np.isfinite(s.values)
        times, values = s.timestamps_ms[finite], s.values[finite]
        if counters:
            times, values = counter_rate(times, values)
        if len(times) >= 2:
            prepared.append((times, values))
    if not prepared:
        raise AggregationError("no matching series has two usable samples yet")
    step = max(recent_step_ms(times) for times, _ in prepared)
    start = max(int(times[0]) for times, _ in prepared)
    end = min(int(times[-1]) for times, _ in prepared)
    if end <= start:
        raise AggregationError("the matching series share no common stretch of time yet")
    grid = end - step * np.arange(int((end - start) // step), -1, -1, dtype=np.int64)
    stacked = np.vstack([np.interp(grid, times, values) for times, values in prepared])
    return Samples(grid, _COMBINE[how](stacked, axis=0))


def aggregate_limits(limits: Sequence[Limits], how: str) -> Limits:
    """Limits of the aggregate from the limits of its parts."""
    if not limits:
        return Limits()
    lowers = [lim.lower for lim in limits]
    uppers = [lim.upper for lim in limits]
    if how == "sum":
        lower, upper = math.fsum(lowers) if all(map(math.isfinite, lowers)) else -math.inf, (
            math.fsum(uppers) if all(map(math.isfinite, uppers)) else math.inf)
    elif how == "avg":
        lower = float(np.mean(lowers)) if all(map(math.isfinite, lowers)) else -math.inf
        upper = float(np.mean(uppers)) if all(map(math.isfinite, uppers)) else math.inf
    else:
        lower, upper = min(lowers), max(uppers)
    reasons = sorted({lim.why for lim in limits if lim.why})
    why = f"{how} of the parts' limits ({'; '.join(reasons)})" if reasons else ""
    return Limits(lower, upper, why)
