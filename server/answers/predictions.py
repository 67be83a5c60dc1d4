"""Answers to prediction questions: find the series, validate the question, run the engine.

The engine's kernels release the GIL, so forecasts run on a thread pool and the
event loop keeps serving ingest and health while they compute. Store reads run on
threads too: with store=prometheus each one is an HTTP request to the TSDB. What turns a forecast
into an answer (resolution, reach, physical limits, probabilities) is in
infracast.server.answers; this module only gathers what those need from the store.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from infracast.common.durations import format_duration
from infracast.server.answers.aggregate import (
    AGGREGATIONS,
    AggregationError,
    Samples,
    aggregate,
    aggregate_limits,
)
from infracast.server.answers.anomaly_tracker import AnomalyTracker
from infracast.server.answers.crossing import Crossing, find_crossing
from infracast.server.answers.forecast_cache import ForecastCache
from infracast.server.answers.limits import CPU_COUNT, Limits, physical_limits
from infracast.server.answers.noise import transient_noise_sd
from infracast.server.answers.outlook import Outlook, build_outlook
from infracast.server.answers.regime import current_history
from infracast.server.answers.resolution import MIN_SAMPLES, REACH_FACTOR, plan
from infracast.server.errors import FailedPrecondition, InvalidArgument, NotFound, quoted
from infracast.server.fleet.nodes import NodeRegistry
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
from infracast.server.metadata.descriptors import MetricDescriptor, is_counter
from infracast.server.metadata.registry import MetricRegistry
from infracast.server.selector import SelectorError, parse_selector
from infracast.server.series import SeriesKey
from infracast.server.store.base import SeriesSummary, Store
from infracast.server.telemetry.stats import ServerStats

MAX_HORIZON_MS = 30 * 86400 * 1000
MAX_ANOMALY_WINDOW_MS = 7 * 86400 * 1000
MAX_LIST_LIMIT = 10_000
DEFAULT_LIST_LIMIT = 1000
MAX_AT_RISK_SERIES = 10_000  # series one fleet-wide question may examine
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


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
class Subject:
    """What a question is about: one series, or an aggregate over several."""

    key: SeriesKey  # for an aggregate: "sum(metric)" with the labels every part shares
    samples: Samples
    is_counter: bool
    limits: Limits
    parts: int = 1


@dataclass(frozen=True)
class ThresholdAnswer:
    key: SeriesKey
    outlook: Outlook
    crossing: Crossing
    level: float
    horizon_ms: int
    threshold: float


@dataclass(frozen=True)
class AtRiskAnswer:
    answers: list[ThresholdAnswer]  # this page, soonest expected crossing first
    examined: int  # series the selector matched
    lacking_history: list[tuple[SeriesKey, str]]  # series skipped, with why
    next_page_token: str


class Predictor:
    def __init__(self, store: Store, executor: ThreadPoolExecutor,
                 cache: ForecastCache | None = None, stats: ServerStats | None = None,
                 nodes: NodeRegistry | None = None, metadata: MetricRegistry | None = None) -> None:
        self._store = store
        # Counters by their declared type; the _total suffix for metrics nobody described.
        self.metadata = metadata if metadata is not None else MetricRegistry()  # an empty one is falsy
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

    def descriptor(self, metric: str) -> MetricDescriptor | None:
        """What the metric means, as its sender declared it; None if nobody described it."""
        return self.metadata.get(metric)

    def select(self, selector_text: str) -> list[SeriesKey]:
        """Every series a selector names; NotFound when there is none."""
        keys = self._store.select(_parse(selector_text, allow_empty=False))
        if not keys:
            raise NotFound(
                f"no series matches {quoted(selector_text.strip())}; list known series with "
                "`infracast series` or ForecastService/ListSeries"
            )
        return keys

    def resolve(self, selector_text: str) -> SeriesKey:
        """The one series a selector names, or an error a person can act on."""
        keys = self.select(selector_text)
        if len(keys) > 1:
            shown = ", ".join(str(key) for key in keys[:3])
            more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
            raise InvalidArgument(
                f"selector {quoted(selector_text.strip())} matches {len(keys)} series ({shown}{more}); "
                "add label matchers so it names exactly one, or aggregate them (sum, avg, max, min)"
            )
        return keys[0]

    # -- what a question is about ------------------------------------------------------

    def subject(self, selector_text: str, aggregation: str = "") -> Subject:
        if not aggregation:
            return self._series_subject(self.resolve(selector_text))
        if aggregation not in AGGREGATIONS:
            raise InvalidArgument(
                f"unknown aggregation {aggregation!r}: use one of {', '.join(AGGREGATIONS)}")
        keys = self.select(selector_text)
        if len(keys) > MAX_AT_RISK_SERIES:
            raise InvalidArgument(
                f"selector {quoted(selector_text.strip())} matches {len(keys)} series; an aggregate "
                f"combines at most {MAX_AT_RISK_SERIES}")
        counters = {self.metadata.is_counter(key.metric) for key in keys}
        if len(counters) > 1:
            raise InvalidArgument(
                f"selector {quoted(selector_text.strip())} mixes counters and gauges; aggregate one kind")
        parts = [self._series_subject(key) for key in keys]
        try:
            samples = aggregate([p.samples for p in parts], aggregation, counters.pop())
        except AggregationError as error:
            raise FailedPrecondition(f"cannot aggregate {quoted(selector_text.strip())}: {error}") from None
        shared = set(keys[0].labels).intersection(*(key.labels for key in keys[1:]))
        metrics = sorted({key.metric for key in keys})
        name = f"{aggregation}({metrics[0] if len(metrics) == 1 else '|'.join(metrics)})"
        key = SeriesKey.of(name, dict(shared))
        return Subject(key, samples, False, aggregate_limits([p.limits for p in parts], aggregation),
                       len(parts))

    def _series_subject(self, key: SeriesKey) -> Subject:
        window = self._store.window(key)
        if window is None:
            raise NotFound(f"series {key} has no samples yet")
        descriptor = self.metadata.get(key.metric)
        return Subject(key, Samples(window.timestamps_ms, window.values), is_counter(key.metric, descriptor),
                       physical_limits(key, self._last_value, self._cpu_count(key), descriptor))

    def _last_value(self, key: SeriesKey) -> float | None:
        summary = self._store.summary(key)
        return None if summary is None else summary.last_value

    def _cpu_count(self, key: SeriesKey) -> int | None:
        node = key.node
        if node is None:
            return None
        count = self._last_value(SeriesKey.of(CPU_COUNT, {"node": node}))
        return int(count) if count and count > 0 else None

    # -- forecasts ---------------------------------------------------------------------

    async def outlook(self, subject: Subject, horizon_ms: int, levels: Sequence[float]) -> Outlook:
        """The subject's forecast at the resolution its data allows, as far as its history reaches."""
        _check_horizon(horizon_ms)
        levels = _check_levels(levels)
        history = current_history(subject.samples.timestamps_ms, subject.samples.values,
                                  subject.is_counter)
        # A level shift keeps at least 30 samples after it, so this counts the whole history
        # whenever it is short.
        if len(history.usable_times_ms) < MIN_SAMPLES:
            raise FailedPrecondition(
                f"not enough history for {subject.key}: {len(history.usable_times_ms)} usable samples, "
                f"forecasts need at least {MIN_SAMPLES}; ask again after a few more sampling intervals")
        samples = Samples(history.timestamps_ms, history.values)
        tiers = plan(history.usable_times_ms, horizon_ms)
        noise = transient_noise_sd(history.usable_values)
        note = history.note
        key = subject.key

        def fit(step_ms: int, until_ms: int) -> SeriesForecast:
            def compute(refresh):
                return forecast_samples(samples.timestamps_ms, samples.values,
                                        until_ms, levels, subject.is_counter, refresh, step_ms)
            # Keyed by the counter rule too: a metric declared anew as a counter (or gauge)
            # must not get the answer or the fit made for the other kind.
            return self.cache.get_or_compute(
                (key, step_ms, until_ms, levels, bool(note), subject.is_counter),
                (key, step_ms, subject.is_counter), samples.timestamps_ms, compute)

        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            result = await loop.run_in_executor(
                self._executor, build_outlook, tiers, fit, subject.limits, note, noise)
        except ValueError as error:  # too little data, e.g. one sample of a counter
            raise FailedPrecondition(f"cannot forecast {key}: {error}") from None
        self.stats.record_forecast(result.model.name, time.perf_counter() - started)
        return result

    async def forecast(
        self, selector_text: str, horizon_ms: int, levels: Sequence[float], aggregation: str = "",
    ) -> tuple[SeriesKey, Outlook]:
        """A forecast over the whole horizon, or FailedPrecondition when the history is too
        short to see that far (no 90-second trend is extrapolated for 6 hours)."""
        _check_horizon(horizon_ms)
        subject = await asyncio.to_thread(self.subject, selector_text, aggregation)  # matching off the loop
        result = await self.outlook(subject, horizon_ms, levels)
        if result.plan.reach_limited:
            span = result.plan.span_ms
            raise FailedPrecondition(
                f"{subject.key} has {format_duration(span / 1000)} of history: a forecast reaches "
                f"at most {REACH_FACTOR} times its history, so {format_duration(horizon_ms / 1000)} "
                f"ahead needs at least {format_duration(math.ceil(horizon_ms / REACH_FACTOR / 1000))}. "
                f"Ask for at most {format_duration(result.plan.searched_ms / 1000)}, or wait "
                "for more history")
        return subject.key, result

    async def time_to_threshold(
        self, selector_text: str, threshold: float, rising: bool, horizon_ms: int, level: float,
        node_resource: str | None = None, capacity_percent: float = 0.0, aggregation: str = "",
    ) -> ThresholdAnswer:
        """When the series crosses `threshold`; or, with `node_resource` ("cpu" or "memory"),
        the allocatable amount its node's agent reported; or, with `capacity_percent`, that
        share of its capacity (its file system's size, its node's memory)."""
        _check_threshold_question(threshold, node_resource, capacity_percent, horizon_ms)
        subject = await asyncio.to_thread(self.subject, selector_text, aggregation)
        return await self._threshold_answer(subject, threshold, rising, horizon_ms, level,
                                            node_resource, capacity_percent)

    async def series_threshold(
        self, key: SeriesKey, threshold: float, rising: bool, horizon_ms: int, level: float,
        capacity_percent: float = 0.0,
    ) -> ThresholdAnswer:
        """time_to_threshold for one series named by its key (the rule evaluator's question)."""
        _check_threshold_question(threshold, None, capacity_percent, horizon_ms)
        subject = await asyncio.to_thread(self._series_subject, key)
        return await self._threshold_answer(subject, threshold, rising, horizon_ms, level, None,
                                            capacity_percent)

    async def _threshold_answer(
        self, subject: Subject, threshold: float, rising: bool, horizon_ms: int, level: float,
        node_resource: str | None, capacity_percent: float,
    ) -> ThresholdAnswer:
        (level,) = _check_levels([level])
        if node_resource is not None:
            threshold = self._allocatable(subject.key, node_resource)
        elif capacity_percent:
            threshold = _share_of_capacity(subject, capacity_percent)
        result = await self.outlook(subject, horizon_ms, [level])
        crossing = await asyncio.get_running_loop().run_in_executor(
            self._executor, find_crossing, result, threshold, rising, level)
        return ThresholdAnswer(subject.key, result, crossing, level, horizon_ms, threshold)

    async def at_risk(
        self, selector_text: str, threshold: float, rising: bool, within_ms: int, level: float,
        capacity_percent: float, min_probability: float, page_size: int, page_token: str,
    ) -> AtRiskAnswer:
        """Every series the selector matches that crosses the threshold within `within_ms`
        (expected crossing or probability >= min_probability), soonest first, paged."""
        _check_threshold_question(threshold, None, capacity_percent, within_ms)
        if not (0.0 <= min_probability <= 1.0):
            raise InvalidArgument(f"min_probability must be in [0, 1], got {min_probability:g}")
        if page_size < 0 or page_size > MAX_PAGE_SIZE:
            raise InvalidArgument(f"page_size must be between 0 and {MAX_PAGE_SIZE}, got {page_size}")
        offset = _page_offset(page_token)
        keys = await asyncio.to_thread(self.select, selector_text)
        if len(keys) > MAX_AT_RISK_SERIES:
            raise InvalidArgument(
                f"selector {quoted(selector_text.strip())} matches {len(keys)} series; one question may "
                f"examine at most {MAX_AT_RISK_SERIES}: narrow it with label matchers")
        lacking: list[tuple[SeriesKey, str]] = []

        async def examine(key: SeriesKey) -> ThresholdAnswer | None:
            try:
                subject = await asyncio.to_thread(self._series_subject, key)
                return await self._threshold_answer(subject, threshold, rising, within_ms, level,
                                                    None, capacity_percent)
            except (FailedPrecondition, NotFound) as error:
                lacking.append((key, str(error)))
                return None

        answers = [a for a in await asyncio.gather(*map(examine, keys)) if a is not None]
        risky = [a for a in answers if a.crossing.already_crossed or a.crossing.expected_ms is not None
                 or a.crossing.probability >= max(min_probability, 1e-9)]
        # Not at risk as far as it could look, but that is short of `within`: not judged either.
        at_risk = {id(a) for a in risky}
        lacking += [(a.key, _short_sight(a.outlook)) for a in answers
                    if a.outlook.plan.reach_limited and id(a) not in at_risk]
        risky.sort(key=lambda a: (a.crossing.expected_ms is None,
                                  a.crossing.expected_ms or 0, -a.crossing.probability, a.key))
        size = page_size or DEFAULT_PAGE_SIZE
        page = risky[offset:offset + size]
        more = offset + size < len(risky)
        lacking.sort()
        return AtRiskAnswer(page, len(keys), lacking, str(offset + size) if more else "")

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
        key = await asyncio.to_thread(self.resolve, selector_text)  # matching off the loop
        window = await asyncio.to_thread(self._store.window, key)  # a TSDB read with store=prometheus
        if window is None:
            raise NotFound(f"series {key} has no samples yet")
        counter = self.metadata.is_counter(key.metric)
        loop = asyncio.get_running_loop()
        tracked = await loop.run_in_executor(
            self._executor, self.anomalies.catch_up, key, window.timestamps_ms, window.values,
            counter)
        points = tracked.points
        if len(points.timestamps_ms):
            points = points.since(int(points.timestamps_ms[-1]) - window_ms + 1)
        return AnomalyAnswer(
            key, points, find_events(points, threshold), threshold, sensitivity, tracked.ready,
            tracked.samples_learned, PROBATION, native_step_ms(points.timestamps_ms),
            counter)


def _short_sight(outlook: Outlook) -> str:
    plan = outlook.plan
    return (f"not at risk within {format_duration(plan.searched_ms / 1000)}, but "
            f"{format_duration(plan.span_ms / 1000)} of history lets it see no further than that")


def _share_of_capacity(subject: Subject, percent: float) -> float:
    if not math.isfinite(subject.limits.upper):
        raise FailedPrecondition(
            f"no capacity is known for {subject.key}: a threshold in percent needs a series with "
            "a capacity (e.g. node_filesystem_avail_bytes with its node_filesystem_size_bytes, "
            "node_memory_MemAvailable_bytes with node_memory_MemTotal_bytes, or a ratio)")
    return subject.limits.upper * percent / 100.0


def _check_threshold_question(threshold: float, node_resource: str | None, capacity_percent: float,
                              horizon_ms: int) -> None:
    _check_horizon(horizon_ms)
    if not math.isfinite(threshold):
        raise InvalidArgument("threshold must be a finite number")
    if not (math.isfinite(capacity_percent) and 0.0 <= capacity_percent <= 100.0):
        raise InvalidArgument(f"capacity_percent must be in [0, 100], got {capacity_percent:g}")
    sources = (threshold != 0) + (node_resource is not None) + (capacity_percent != 0)
    if sources > 1:
        raise InvalidArgument(
            "give one of a threshold, a threshold source or a capacity percentage, not several")


def _page_offset(token: str) -> int:
    if not token:
        return 0
    if not token.isdigit() or len(token) > 9:
        raise InvalidArgument("page_token is not one this server issued; start again without it")
    return int(token)
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
