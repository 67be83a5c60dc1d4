import numpy as np

from infracast.server.answers.anomaly_tracker import AnomalyTracker
from infracast.server.forecast.anomaly_detector import anomaly_scores
from infracast.server.forecast.grid import counter_rate
from infracast.server.series import SeriesKey

STEP = 15_000


def test_a_counter_is_scored_as_its_rate_and_fed_in_parts_as_at_once():
    rng = np.random.default_rng(2)
    times = 1_700_000_000_000 + STEP * np.arange(1000, dtype=np.int64)
    counter = np.cumsum(rng.uniform(100, 200, 1000))
    counter[600:] -= counter[599]  # a restart resets the counter
    key = SeriesKey.of("node_network_receive_bytes_total", {"node": "n1"})
    tracker = AnomalyTracker(max_age_ms=3_600_000)
    tracker.catch_up(key, times[:400], counter[:400], is_counter=True)
    # the store's window overlaps what was fed: only the newer samples count
    kept = tracker.catch_up(key, times[300:], counter[300:], is_counter=True)
    rate_times, rates = counter_rate(times, counter)
    assert tracker.points_fed == len(rates) == kept.samples_learned
    expected = anomaly_scores(rate_times, rates)
    assert len(kept.points.scores) == 240  # one hour of 15 s samples is kept
    np.testing.assert_array_equal(kept.points.scores, expected[-240:])
    np.testing.assert_array_equal(kept.points.values, rates[-240:])


def test_a_series_redeclared_counter_or_gauge_is_learnt_afresh():
    tracker = AnomalyTracker(3_600_000)
    key = SeriesKey.of("app_requests")
    times = 1_700_000_000_000 + 10_000 * np.arange(50)
    counts = 100.0 * np.arange(50)
    as_gauge = tracker.catch_up(key, times, counts, is_counter=False)
    assert as_gauge.samples_learned == 50 and as_gauge.points.values[-1] == counts[-1]
    as_counter = tracker.catch_up(key, times, counts, is_counter=True)
    # The rates of the same samples, from the start: not appended to the values learnt before.
    assert as_counter.samples_learned == 49
    assert np.allclose(as_counter.points.values, 10.0)
