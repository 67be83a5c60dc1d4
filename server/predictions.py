"""Answers to prediction questions: find the series, validate the question, run the engine.

The engine's kernels release the GIL, so forecasts run on a thread pool and the
event loop keeps serving ingest and health while they compute.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from infracast.server.anomaly_tracker import AnomalyTracker
from infracast.server.errors import FailedPrecondition, InvalidArgument, NotFound
from infracast.server.forecast.anomaly_detector import (
    PROBATION,
    SENSITIVITY_THRESHOLDS,
    AnomalyEvent,
    ScoredPoints,
    find_events,
)
from infracast.server.forecast.engine import (
    SeriesForecast,
    check_levels,
    forecast_samples,
)
from infracast.server.forecast.grid import native_step_ms
from infracast.server.forecast.threshold import Crossing, time_to_threshold
from infracast.server.forecast_cache import ForecastCache
from infracast.server.nodes import NodeRegistry
from infracast.server.selector import SelectorError, parse_selector
from infracast.server.series import SeriesKey
from infracast.server.stats import ServerStats
from infracast.server.store.base import SeriesSummary, Store

MAX_HORIZON_MS = 30 * 86400 * 1000
MAX_ANOMALY_WINDOW_MS = 7 * 86400 * 1000
MAX_LIST_LIMIT = 10_000
DEFAULT_LIST_LIMIT = 1000


@dataclass(frozen=True)
class AnomalyAnswer:
    key: SeriesKey
    points: ScoredPoints  # the window's samples (counters: their rates), oldest first
    events: list[AnomalyEvent]
    threshold: float
    sensitivity: str
    enough_history: bool
    history_samples: int
    required_samples: int
    step_ms: int
    rate_of_counter: bool


@dataclass(frozen=True)
class ThresholdAnswer:
    key: SeriesKey
    forecast: SeriesForecast
    crossing: Crossing
    level: float
    horizon_ms: int
    threshold: float


class Predictor:
    def __init__(self, store: Store, executor: ThreadPoolExecutor,
                 cache: ForecastCache | None = None, stats: ServerStats | None = None,
                 nodes: NodeRegistry | None = None) -> None:
        self._store = store
        self._nodes = nodes or NodeRegistry()
        self._executor = executor
        self.cache = cache or ForecastCache()
        self.anomalies = AnomalyTracker(MAX_ANOMALY_WINDOW_MS)
        self.stats = stats or ServerStats()

    def list_series(self, selector_text: str, limit: int) -> tuple[list[SeriesSummary], bool]:
        if limit < 0 or limit > MAX_LIST_LIMIT:
            raise InvalidArgument(f"limit must be between 0 and {MAX_LIST_LIMIT}, got {limit}")
        keys = self._store.select(_parse(selector_text, allow_empty=True))
        limit = limit or DEFAULT_LIST_LIMIT
        summaries = [s for s in map(self._store.summary, keys[:limit]) if s is not None]
        return summaries, len(keys) > limit

    def resolve(self, selector_text: str) -> SeriesKey:
        """The one series a selector names, or an error a person can act on."""
        keys = self._store.select(_parse(selector_text, allow_empty=False))
        if not keys:
            raise NotFound(
                f"no series matches {selector_text.strip()!r}; list known series with "
                "`infracast series` or ForecastService/ListSeries"
            )
        if len(keys) > 1:
            shown = ", ".join(str(key) for key in keys[:3])
            more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
            raise InvalidArgument(
                f"selector {selector_text.strip()!r} matches {len(keys)} series ({shown}{more}); "
                "add label matchers so it names exactly one"
            )
        return keys[0]

    async def forecast(
        self, selector_text: str, horizon_ms: int, levels: Sequence[float]
    ) -> tuple[SeriesKey, SeriesForecast]:
        _check_horizon(horizon_ms)
        levels = _check_levels(levels)
        key = self.resolve(selector_text)
        window = self._store.window(key)
        if window is None:
            raise NotFound(f"series {key} has no samples yet")
        def compute(refresh):
            return forecast_samples(window.timestamps_ms, window.values, horizon_ms, levels,
                                    key.is_counter, key.value_range, refresh)

        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            result = await loop.run_in_executor(
                self._executor, self.cache.get_or_compute,
                (key, horizon_ms, levels), (key, horizon_ms), window.timestamps_ms, compute,
            )
        except ValueError as error:  # too little data, e.g. one sample of a counter
            raise InvalidArgument(f"cannot forecast {key}: {error}") from None
        self.stats.record_forecast(result.forecast.model.name, time.perf_counter() - started)
        return key, result

    async def time_to_threshold(
        self, selector_text: str, threshold: float, rising: bool, horizon_ms: int, level: float,
        node_resource: str | None = None,
    ) -> ThresholdAnswer:
        """When the series crosses `threshold`, or, with `node_resource` ("cpu" or "memory"),
        the allocatable amount its node's agent reported."""
        if not math.isfinite(threshold):
            raise InvalidArgument("threshold must be a finite number")
        if node_resource is not None and threshold != 0:
            raise InvalidArgument("give either a threshold or a threshold source, not both")
        (level,) = _check_levels([level])
        key, result = await self.forecast(selector_text, horizon_ms, [level])
        if node_resource is not None:
            threshold = self._allocatable(key, node_resource)
        crossing = time_to_threshold(result, threshold, rising, level)
        return ThresholdAnswer(key, result, crossing, level, horizon_ms, threshold)

    def _allocatable(self, key: SeriesKey, resource: str) -> float:
        node_name = key.node
        node = self._nodes.get(node_name) if node_name else None
        amount = (0.0 if node is None else
                  node.allocatable_memory_bytes if resource == "memory" else node.allocatable_cpu_cores)
        if amount <= 0:
            raise FailedPrecondition(
                f"no allocatable {resource} is known for node {node_name!r}: its agent reports it "
                "only when it can read its Node from the Kubernetes API (INFRACAST_KUBERNETES), "
                "and only since this server started")
        return amount


    async def detect_anomalies(self, selector_text: str, window_ms: int, threshold: float,
                               sensitivity: str) -> AnomalyAnswer:
        """Scores of the window's samples by the series' streaming detector, and its events.

        threshold 0 means the sensitivity's threshold. The detector is fed only the
        samples that arrived since the last request for this series.
        """
        if window_ms <= 0 or window_ms > MAX_ANOMALY_WINDOW_MS:
            raise InvalidArgument(
                f"window must be positive and at most 7 days, got {window_ms / 1000:g}s")
        if not (math.isfinite(threshold) and 0 <= threshold <= 1):
            raise InvalidArgument(f"threshold must be an anomaly score in (0, 1], got {threshold:g}")
        threshold = threshold or SENSITIVITY_THRESHOLDS[sensitivity]
        key = self.resolve(selector_text)
        window = self._store.window(key)
        if window is None:
            raise NotFound(f"series {key} has no samples yet")
        loop = asyncio.get_running_loop()
        tracked = await loop.run_in_executor(
            self._executor, self.anomalies.catch_up, key, window.timestamps_ms, window.values,
            key.is_counter)
        points = tracked.points
        if len(points.timestamps_ms):
            points = points.since(int(points.timestamps_ms[-1]) - window_ms + 1)
        return AnomalyAnswer(
            key, points, find_events(points, threshold), threshold, sensitivity, tracked.ready,
            tracked.samples_learned, PROBATION, native_step_ms(points.timestamps_ms),
            key.is_counter)


def _parse(selector_text: str, allow_empty: bool):
    if not selector_text.strip() and not allow_empty:
        raise InvalidArgument(
            'selector is empty: name one series, e.g. node_load1{node="n1"}'
        )
    try:
        return parse_selector(selector_text)
    except SelectorError as error:
        raise InvalidArgument(str(error)) from None


def _check_horizon(horizon_ms: int) -> None:
    if horizon_ms <= 0:
        raise InvalidArgument(f"horizon must be positive, got {horizon_ms / 1000:g}s")
    if horizon_ms > MAX_HORIZON_MS:
        raise InvalidArgument(
            f"horizon {horizon_ms / 86_400_000:g} days is too long: at most 30 days"
        )


def _check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    try:
        return check_levels(levels)
    except ValueError:
        raise InvalidArgument(
            f"interval levels {list(levels)} are not allowed: levels are percentages in (0, 100), e.g. 80"
        ) from None
