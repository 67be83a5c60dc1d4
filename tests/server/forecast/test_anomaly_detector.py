import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from infracast.server.forecast.anomaly_detector import (
    PROBATION,
    SENSITIVITY_THRESHOLDS,
    StreamingAnomalyDetector,
    anomaly_scores,
    find_events,
)

STEP = 300_000
START = 1_700_000_000_000
THRESHOLD = SENSITIVITY_THRESHOLDS["standard"]


def daily_series(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    timestamps = START + STEP * np.arange(n, dtype=np.int64)
    values = 50 + 10 * np.sin(np.arange(n) * 2 * np.pi / 288) + rng.normal(0, 1, n)
    return timestamps, values


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), cut=st.integers(1, 1999))
def test_scores_are_causal_appending_points_never_changes_earlier_scores(seed, cut):
    timestamps, values = daily_series(2000, seed)
    values[1500:1510] += 30  # an anomaly after the cut or before it
    full = anomaly_scores(timestamps, values)
    prefix = anomaly_scores(timestamps[:cut], values[:cut])
    np.testing.assert_array_equal(prefix, full[:cut])


def test_feeding_points_in_batches_gives_the_same_scores_as_one_pass():
    timestamps, values = daily_series(3000)
    values[2000] += 40
    detector = StreamingAnomalyDetector()
    batches = [detector.update(timestamps[a:b], values[a:b]).scores
               for a, b in [(0, 1), (1, 100), (100, 2000), (2000, 2001), (2001, 3000)]]
    np.testing.assert_array_equal(np.concatenate(batches), anomaly_scores(timestamps, values))
    # a point not later than the last one fed is skipped, not scored twice
    assert len(detector.update(timestamps[-5:], values[-5:]).scores) == 0
    assert detector.points_seen == 3000


def test_scores_lie_in_0_1_and_probation_only_learns():
    timestamps, values = daily_series(2000)
    values[1000:1050] = 1e9
    scores = anomaly_scores(timestamps, values)
    assert np.all((scores >= 0) & (scores <= 1))
    assert np.all(scores[:PROBATION] == 0)
    points = StreamingAnomalyDetector().update(timestamps, values)
    assert points.learning[:PROBATION].all() and not points.learning[PROBATION:].any()


def test_a_flat_series_raises_nothing_and_a_spike_on_it_raises_one_event():
    # the failure: perfectly modelled flat stretches gave a zero yardstick and
    # tied maximal scores; here the floor follows the series' resolution
    timestamps = START + STEP * np.arange(3000, dtype=np.int64)
    values = np.full(3000, 7.0)
    values[::97] = 8.0  # a resolution of 1 and rare blips that are part of normal
    assert not (anomaly_scores(timestamps, values) >= THRESHOLD).any()
    values[2000:2005] = 40.0
    points = StreamingAnomalyDetector().update(timestamps, values)
    events = find_events(points, THRESHOLD)
    assert [e.start_ms for e in events] == [timestamps[2000]]
    assert events[0].expected_high < 40.0 and events[0].expected_low <= 7.0 <= events[0].expected_high
    assert events[0].end_ms >= timestamps[2004] and events[0].peak_score >= THRESHOLD


def test_a_level_shift_is_one_event_and_then_becomes_normal():
    timestamps, values = daily_series(6000, seed=3)
    values[3000:] += 40
    points = StreamingAnomalyDetector().update(timestamps, values)
    # the daily cycle's first peaks and troughs (the first day) raise nothing either
    events = find_events(points, THRESHOLD)
    assert len(events) == 1 and timestamps[3000] <= events[0].start_ms <= timestamps[3010]
    assert points.scores[4000:].max() < THRESHOLD  # the new level is normal now


def test_noise_alone_raises_few_events():
    timestamps, values = daily_series(20_000, seed=5)
    events = find_events(StreamingAnomalyDetector().update(timestamps, values), THRESHOLD)
    assert len(events) <= 3  # about 70 days of 5-minute points
