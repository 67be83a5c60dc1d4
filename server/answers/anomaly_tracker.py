"""Anomaly detector state per series, fed from the store as samples arrive.

Each request feeds the detector only the samples that arrived since the last request
for the series (O(1) work per new sample), then reads the scores of the window asked
for from the points kept. Points are kept for max_age_ms (the longest window a request
may ask for); the detector's own state is a few kilobytes per series.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from infracast.server.forecast.anomaly_detector import ScoredPoints, StreamingAnomalyDetector
from infracast.server.forecast.grid import counter_rate
from infracast.server.series import SeriesKey


@dataclass
class _Tracked:
    detector: StreamingAnomalyDetector = field(default_factory=StreamingAnomalyDetector)
    points: ScoredPoints | None = None
    last_raw: tuple[int, float] | None = None  # a counter's last sample, for the next rate
    is_counter: bool = False  # what the detector learnt: values, or a counter's rates
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class TrackedSeries:
    points: ScoredPoints  # every point kept, oldest first
    samples_learned: int  # points the detector has seen since the server started
    ready: bool


class AnomalyTracker:
    def __init__(self, max_age_ms: int) -> None:
        self._max_age_ms = max_age_ms
        self._series: dict[SeriesKey, _Tracked] = {}
        self._lock = threading.Lock()
        self.points_fed = 0  # all points ever fed to a detector, for tests and stats

    def catch_up(self, key: SeriesKey, timestamps_ms: np.ndarray, values: np.ndarray,
                 is_counter: bool) -> TrackedSeries:
        """Feeds the samples newer than the last fed (the store's window, sorted) and
        returns what is kept for the series. Thread-safe; series are independent."""
        with self._lock:
            tracked = self._series.get(key)
            if tracked is None or tracked.is_counter != is_counter:  # new, or redeclared: learn afresh
                tracked = self._series[key] = _Tracked(is_counter=is_counter)
        with tracked.lock:
            finite = np.isfinite(values)
            timestamps_ms, values = timestamps_ms[finite], values[finite]
            if is_counter:
                timestamps_ms, values = self._rates(tracked, timestamps_ms, values)
            last = tracked.detector.last_timestamp_ms
            if last is not None:
                newer = timestamps_ms > last
                timestamps_ms, values = timestamps_ms[newer], values[newer]
            scored = tracked.detector.update(timestamps_ms, values)
            self.points_fed += len(scored.scores)
            points = scored if tracked.points is None else tracked.points.then(scored)
            if len(points.timestamps_ms):
                points = points.since(int(points.timestamps_ms[-1]) - self._max_age_ms + 1)
            tracked.points = points
            return TrackedSeries(points, tracked.detector.points_seen, tracked.detector.ready)

    @staticmethod
    def _rates(tracked: _Tracked, timestamps_ms: np.ndarray, values: np.ndarray):
        if tracked.last_raw is not None:
            newer = timestamps_ms > tracked.last_raw[0]
            timestamps_ms = np.concatenate([[tracked.last_raw[0]], timestamps_ms[newer]])
            values = np.concatenate([[tracked.last_raw[1]], values[newer]])
        if len(timestamps_ms):
            tracked.last_raw = (int(timestamps_ms[-1]), float(values[-1]))
        return counter_rate(timestamps_ms.astype(np.int64), values)
