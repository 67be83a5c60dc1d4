"""Streaming anomaly detector: one O(1) update per new point, all state in one flat array.

Each point is judged from earlier points only:
- surprise: the smaller of two forecast residuals (against an exponentially weighted level,
  and against a daily profile of five-minute slots, so a daily pattern is not news), each
  scaled by its own running mean absolute size. The scale has a floor that follows the
  series' resolution (smallest step seen) and magnitude, so flat series never divide by 0.
- likelihood (HTM's anomaly likelihood): the mean of the last SHORT surprises against the
  running mean and spread of that mean, as a Gaussian tail probability on a log scale:
  score = -log10(tail) / 10, so 0.5 is a one-in-100,000 tail.
- novelty of range (HTM's NAB detector): a value beyond everything seen so far, by a
  margin, scores 1. The range then includes it, so a level shift is news once. During the
  first day the margin is wider, so the first cycle of a daily pattern is hardly news.
- episodes: a score of at least RAISE opens an episode; its later points are damped, so
  an episode is reported once, at its start. It closes after QUIET calm points.
The first PROBATION points only teach the detector and score 0.
"""

from __future__ import annotations

import math

import numpy as np

from infracast.server.forecast.jit import kernel

PROBATION = 150  # points that only teach the detector
SHORT = 15  # surprises averaged by the likelihood
LEVEL_RATE = 0.1  # weight of a new point in the expected level
SPREAD_RATE = 0.003  # weight of a new residual in the residual spreads
PROFILE_RATE = 0.3  # weight of a new point in its daily slot
SEASON_SLOTS = 288  # five-minute slots of the day
DAY_MS = 86_400_000
LONG_RATE = 0.001  # weight of a new short mean in its long-run mean and variance
MIN_SIGMA = 0.07  # floor of the short mean's spread, so a quiet series is not hair-triggered
SURPRISE_SCALE = 3.0  # surprise = 1 - exp(-|z| / SURPRISE_SCALE)
RANGE_MARGIN = 0.05  # share of the seen range a value must exceed it by to be new (HTM: 5 %)
EARLY_RANGE_MARGIN = 0.5  # the same during the first day
RAISE = 0.4  # score that opens an episode
CALM = 0.2  # an episode closes after QUIET points scoring below CALM
QUIET = 10
DAMP = 0.2  # factor on the scores of an episode after its first point
RELATIVE_FLOOR = 1e-6  # spread floor relative to the series' magnitude
EXPECTED_WIDTH = 4.0  # expected range: expectation +- this many spreads

# scalar slots of the state
N = 0  # points seen
LEVEL = 1
SPREAD = 2
SEASON_SPREAD = 3
RESOLUTION = 4  # smallest non-zero step between consecutive values
MAGNITUDE = 5  # running mean of |value|
PREVIOUS = 6
LOWEST = 7
HIGHEST = 8
SHORT_SUM = 9
LONG_MEAN = 10
LONG_VAR = 11
EPISODE = 12  # 1 while an episode is open
CALM_RUN = 13
EXPECTED = 14  # expectation and spread for the last point (for the expected range)
EXPECTED_SPREAD = 15
UNDAMPED = 16  # the last point's score before damping
FIRST_MS = 17  # time of the first point
SCALARS = 18
RING = SCALARS  # the last SHORT surprises
PROFILE = RING + SHORT  # SEASON_SLOTS values; NaN until the slot is seen
STATE_SIZE = PROFILE + SEASON_SLOTS


def new_state() -> np.ndarray:
    """State of a detector that has seen nothing; (STATE_SIZE,) float64."""
    state = np.zeros(STATE_SIZE)
    state[RESOLUTION] = np.inf
    state[PROFILE:] = np.nan
    return state


@kernel
def _spread_floor(state):
    resolution = state[RESOLUTION] if np.isfinite(state[RESOLUTION]) else 0.0
    return max(resolution, RELATIVE_FLOOR * state[MAGNITUDE], 1e-12)


@kernel
def _surprise(state, timestamp_ms, value):
    """|z| of the better of the two expectations; learns the point."""
    floor = _spread_floor(state)
    spread = max(state[SPREAD], floor)
    residual = value - state[LEVEL]
    z = abs(residual) / spread
    expected, expected_spread = state[LEVEL], spread
    slot = PROFILE + (timestamp_ms % DAY_MS) * SEASON_SLOTS // DAY_MS
    seasonal = value - state[slot]
    if np.isnan(seasonal):
        state[slot] = value
    else:
        season_spread = max(state[SEASON_SPREAD], floor)
        if abs(seasonal) / season_spread < z:
            z = abs(seasonal) / season_spread
            expected, expected_spread = state[slot], season_spread
        state[SEASON_SPREAD] += SPREAD_RATE * (min(abs(seasonal), 10.0 * season_spread)
                                               - state[SEASON_SPREAD])
        state[slot] += PROFILE_RATE * seasonal
    state[EXPECTED] = expected
    state[EXPECTED_SPREAD] = expected_spread
    state[LEVEL] += LEVEL_RATE * residual
    # large residuals are clipped so one outlier does not widen the yardstick for long
    state[SPREAD] += SPREAD_RATE * (min(abs(residual), 10.0 * spread) - state[SPREAD])
    return z


@kernel
def anomaly_update(state, timestamp_ms, value):
    """Score in [0, 1] of one new point, from the points before it; updates the state."""
    n = np.int64(state[N])
    state[N] = n + 1
    if n == 0:
        state[LEVEL] = state[PREVIOUS] = state[LOWEST] = state[HIGHEST] = value
        state[MAGNITUDE] = abs(value)
        state[EXPECTED] = value
        state[FIRST_MS] = timestamp_ms
    step = abs(value - state[PREVIOUS])
    if 0.0 < step < state[RESOLUTION]:
        state[RESOLUTION] = step
    state[PREVIOUS] = value
    state[MAGNITUDE] += 0.01 * (abs(value) - state[MAGNITUDE])
    if n == 1:
        state[SPREAD] = state[SEASON_SPREAD] = step

    # a wider margin until a whole day has been seen: until then a daily cycle's own peaks
    # and troughs are new, and only gross excursions should count
    share = RANGE_MARGIN if timestamp_ms - state[FIRST_MS] >= DAY_MS else EARLY_RANGE_MARGIN
    margin = share * (state[HIGHEST] - state[LOWEST])
    beyond = value > state[HIGHEST] + margin or value < state[LOWEST] - margin
    state[HIGHEST] = max(state[HIGHEST], value)
    state[LOWEST] = min(state[LOWEST], value)

    surprise = 1.0 - math.exp(-_surprise(state, timestamp_ms, value) / SURPRISE_SCALE)
    ring = RING + n % SHORT
    state[SHORT_SUM] += surprise - state[ring]
    state[ring] = surprise
    mean = state[SHORT_SUM] / SHORT
    if n < PROBATION:
        state[LONG_MEAN] = mean
        state[LONG_VAR] = MIN_SIGMA * MIN_SIGMA
        return 0.0

    sigma = max(math.sqrt(state[LONG_VAR]), MIN_SIGMA)
    tail = 0.5 * math.erfc((mean - state[LONG_MEAN]) / sigma / math.sqrt(2.0))
    score = min(1.0, -math.log10(tail + 1e-10) / 10.0)
    if beyond:
        score = 1.0
    state[UNDAMPED] = score
    # the long-run statistics learn from a clipped mean so an anomaly hardly widens them
    delta = min(mean, state[LONG_MEAN] + 3.0 * sigma) - state[LONG_MEAN]
    state[LONG_MEAN] += LONG_RATE * delta
    state[LONG_VAR] = (1.0 - LONG_RATE) * (state[LONG_VAR] + LONG_RATE * delta * delta)

    if state[EPISODE] > 0.0:
        state[CALM_RUN] = state[CALM_RUN] + 1.0 if score < CALM else 0.0
        if state[CALM_RUN] >= QUIET:
            state[EPISODE] = 0.0
        return score * DAMP
    if score >= RAISE:
        state[EPISODE] = 1.0
        state[CALM_RUN] = 0.0
    return score


@kernel
def anomaly_run(state, timestamps_ms, values, scores, undamped, episode, expected, spreads):
    """anomaly_update over points oldest first; fills the (n,) outputs: scores, scores before
    damping, 1 where the point is part of an open episode, the expectation and its spread."""
    for i in range(len(values)):
        scores[i] = anomaly_update(state, timestamps_ms[i], values[i])
        undamped[i] = state[UNDAMPED]
        episode[i] = state[EPISODE]
        expected[i] = state[EXPECTED]
        spreads[i] = state[EXPECTED_SPREAD]
