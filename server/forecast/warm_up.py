"""Load every kernel a request can reach before the server says it is ready.

numba loads a cached kernel (or compiles it) at its first call; a kernel first met by a
real request makes that request wait (50 ms for a cache load, seconds for a compile)
and pulls the compiler's code back into memory after it was released. The inputs
below take every path the prediction RPCs take: a daily season found and one
rejected, a counter, a series too short for backtests, and the engine's own season
search, and the probability of reaching a threshold; and the stores' chunk kernels.
tests/integration/test_compiler_memory.py checks that requests load nothing more.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from infracast.server.forecast.anomaly_detector import StreamingAnomalyDetector
from infracast.server.forecast.crossing_kernels import exceedance, reach_cdf
from infracast.server.forecast.engine import DAY_MS, PROBABILITY_GRID, forecast_samples, forecast_values
from infracast.server.store.gorilla_kernels import warm_up_store_kernels

STEP_MS = 300_000


# Called before each step with (steps done, steps in all, what the next step compiles).
Progress = Callable[[int, int, str], None]


def warm_up_kernels(progress: Progress | None = None) -> None:
    rng = np.random.default_rng(0)
    points = 3 * DAY_MS // STEP_MS  # three days: enough cycles to test a daily season
    timestamps = 1_700_000_000_000 + STEP_MS * np.arange(points, dtype=np.int64)
    daily = np.sin(2 * np.pi * timestamps / DAY_MS) * 5 + 50 + rng.normal(size=points)
    steps = [
        ("seasonal models", lambda: forecast_samples(timestamps, daily, horizon_ms=6 * 3_600_000)),
        ("non-seasonal models",  # season rejected
         lambda: forecast_samples(timestamps, rng.normal(size=points), horizon_ms=3_600_000)),
        ("counter rates", lambda: forecast_samples(timestamps, np.cumsum(rng.uniform(0, 10, points)),
                                                   3_600_000, is_counter=True)),
        ("short histories", lambda: forecast_samples(timestamps[:3], np.array([1.0, 2.0, 3.0]), 600_000)),
        ("season search", lambda: forecast_values(np.cumsum(rng.normal(size=64)), 8, season_length=None)),
        ("threshold crossings", _crossing_kernels),
        ("anomaly detector", lambda: StreamingAnomalyDetector().update(timestamps, daily)),
        ("store chunks", warm_up_store_kernels),  # every append and compaction encodes
    ]
    for done, (what, step) in enumerate(steps):
        if progress is not None:
            progress(done, len(steps), what)
        step()
    if progress is not None:
        progress(len(steps), len(steps), "done")


def _crossing_kernels() -> None:
    quantiles = np.tile(np.linspace(-1.0, 1.0, len(PROBABILITY_GRID)), (4, 1))
    for rising in (True, False):
        reach_cdf(np.ones(4), quantiles, PROBABILITY_GRID, np.ones(4), 0.1, rising)
        exceedance(np.ones(4), quantiles, PROBABILITY_GRID, rising)
