"""DetectAnomalies through the real server: the per-series detector is fed incrementally."""

import time

import numpy as np

from tests.integration.feed import feed_series

STEP_MS = 30_000


def test_the_server_feeds_each_series_detector_only_new_samples(server, client):
    rng = np.random.default_rng(4)
    now = int(time.time() * 1000)
    times = now - STEP_MS * np.arange(600)[::-1]
    values = 40 + 5 * np.sin(np.arange(600) / 30) + rng.normal(0, 0.5, 600)
    values[560:570] += 25
    feed_series(server.address, "n1", "node_load1", {}, times[:500], values[:500])
    tracker = server.app.predictor.anomalies

    first = client.detect_anomalies('node_load1{node="n1"}', "1h")
    assert first.enough_history and tracker.points_fed == 500
    assert first.events == [] and len(first.scores) == 120
    again = client.detect_anomalies('node_load1{node="n1"}', "1h")
    assert tracker.points_fed == 500  # nothing new: no re-run over the window
    np.testing.assert_array_equal(again.scores, first.scores)

    feed_series(server.address, "n1", "node_load1", {}, times[500:], values[500:])
    later = client.detect_anomalies('node_load1{node="n1"}', "2h")
    assert tracker.points_fed == 600
    # causal: the scores of the earlier points did not change when later ones arrived
    np.testing.assert_array_equal(later.scores[np.isin(later.timestamps, first.timestamps)], first.scores)
    (event,) = later.events
    assert event.start == later.timestamps[-40].astype(object).replace(tzinfo=event.start.tzinfo)
    assert event.value > event.expected_high and event.peak_score >= later.threshold
    assert later.anomalous.sum() == 1 and later.threshold == 0.4
    assert client.detect_anomalies('node_load1{node="n1"}', "2h", sensitivity="low-fp").threshold == 0.425
    strict = client.detect_anomalies('node_load1{node="n1"}', "2h", threshold=0.999)
    assert [e.start for e in strict.events] == [event.start] and strict.events[0].peak_score == 1.0
    assert tracker.points_fed == 600
