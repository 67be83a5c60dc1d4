"""The infracast Python client: typed methods returning plain Python and numpy values.

    with InfracastClient("127.0.0.1:50051") as client:
        forecast = client.forecast('node_load1{node="n1"}', horizon="1h")
        forecast.mean, forecast.upper[95.0]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import numpy as np
from google.protobuf.duration_pb2 import Duration
from grpc_health.v1 import health_pb2, health_pb2_grpc

from infracast.clients.errors import translate
from infracast.common.channels import TlsOptions, open_channel
from infracast.common.durations import parse_duration
from infracast.v1 import forecast_pb2, forecast_pb2_grpc, series_pb2, status_pb2, status_pb2_grpc

MAX_HINTED_RETRIES = 3  # retries of a call the server refused with a retry hint
FLEET_TIMEOUT_S = 300.0  # default deadline of a question over many series

# Thresholds a node reports, by the names time_to_threshold and `infracast when` accept.
THRESHOLD_SOURCES = {
    "allocatable-memory": forecast_pb2.THRESHOLD_SOURCE_NODE_ALLOCATABLE_MEMORY,
    "allocatable-cpu": forecast_pb2.THRESHOLD_SOURCE_NODE_ALLOCATABLE_CPU,
}


@dataclass(frozen=True)
class Series:
    metric: str
    labels: dict[str, str]

    def __str__(self) -> str:
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()))
        return f"{self.metric}{{{inner}}}" if inner else self.metric


@dataclass(frozen=True)
class SeriesInfo:
    series: Series
    sample_count: int
    first: datetime
    last: datetime
    last_value: float
    # What the metric means, as its sender declared it; "" where nobody described it.
    type: str = ""  # "gauge" or "counter"
    unit: str = ""  # base unit: bytes, seconds, ratio, ...
    help: str = ""


# The wire's MetricType as SeriesInfo.type says it, read off the generated enum
# (METRIC_TYPE_GAUGE is "gauge"); "" for an undeclared type.
METRIC_TYPES = {number: name.removeprefix("METRIC_TYPE_").lower()
                for name, number in series_pb2.MetricType.items()
                if number != series_pb2.METRIC_TYPE_UNSPECIFIED}


@dataclass(frozen=True)
class MetricMeaning:
    """How to show a metric's values: what its descriptor declares, else what its name says
    (the server's rule for metrics nobody described)."""

    counter: bool  # answers give its per-second rate
    unit: str  # the declared base unit; "" when none (units.base_unit then reads the name)


@dataclass(frozen=True)
class Model:
    name: str
    reason: str
    parameters: dict[str, float]
    observations: int
    residual_std: float
    rate_of_counter: bool
    season_length: int  # grid steps; 0 when no season is used
    season_period_s: float | None
    backtest_mae: float  # 0 for short histories, which have no backtest
    backtest_mase: float


AGGREGATIONS: dict[str, forecast_pb2.Aggregation] = {
    "": forecast_pb2.AGGREGATION_UNSPECIFIED,
    "sum": forecast_pb2.AGGREGATION_SUM,
    "avg": forecast_pb2.AGGREGATION_AVG,
    "max": forecast_pb2.AGGREGATION_MAX,
    "min": forecast_pb2.AGGREGATION_MIN,
}


@dataclass(frozen=True)
class Limits:
    """What the series can physically be; None where there is no limit."""

    lower: float | None
    upper: float | None
    reason: str
    applied: bool  # a forecast value or bound was moved inside the limits


@dataclass(frozen=True)
class Forecast:
    """Point forecast and bounds; `lower[80.0]` and `upper[80.0]` bound the 80 % interval.

    Points are spaced at the series' own interval near now and wider further out.
    """

    series: Series
    timestamps: np.ndarray  # datetime64[ms], UTC
    mean: np.ndarray
    lower: dict[float, np.ndarray]
    upper: dict[float, np.ndarray]
    model: Model
    step_s: float  # spacing of the nearest points
    last_timestamp: datetime
    last_value: float
    limits: Limits


@dataclass(frozen=True)
class ThresholdCrossing:
    series: Series
    will_cross: bool
    expected: datetime | None
    earliest: datetime | None
    latest: datetime | None
    time_remaining_s: float | None
    already_crossed: bool
    last_value: float
    level: float
    horizon_s: float
    model: Model
    probability: float  # of reaching the threshold within the searched horizon
    threshold: float  # the level used: as given, the node's allocatable amount, or % of capacity
    searched_s: float  # how far ahead it looked: the horizon, or less for lack of history
    reach_limited: bool
    limits: Limits


@dataclass(frozen=True)
class CrossingList:
    """Series at risk, soonest first; `skipped` are (series, why) that could not be judged."""

    crossings: list[ThresholdCrossing]
    examined: int
    skipped: list[tuple[Series, str]]
    next_page_token: str


@dataclass(frozen=True)
class NodeState:
    name: str
    agent_connected: bool
    in_cluster: bool  # listed by the Kubernetes API
    last_connected: datetime | None
    agent_version: str
    labels: dict[str, str]
    allocatable_cpu_cores: float  # 0: unknown
    allocatable_memory_bytes: float  # 0: unknown


@dataclass(frozen=True)
class ServerStatus:
    version: str
    profile: str
    started: datetime
    uptime_s: float
    components: dict[str, tuple[str, str]]  # name -> (state, detail)
    counts: dict[str, float]
    configuration: dict[str, str]
    nodes: list[NodeState]


@dataclass(frozen=True)
class AnomalyEvent:
    """One anomalous episode: raised at `start`, held until `end`."""

    start: datetime
    end: datetime
    peak: datetime
    peak_score: float
    expected_low: float  # the range expected at the start
    expected_high: float
    value: float  # the value at the start


@dataclass(frozen=True)
class Anomalies:
    """Scores in [0, 1] of the window's points; `anomalous` marks the starts of events.

    While `enough_history` is False the detector is still learning the series
    (`history_samples` of `required_samples`) and every score is 0.
    """

    series: Series
    timestamps: np.ndarray  # datetime64[ms], UTC
    values: np.ndarray
    expected: np.ndarray
    scores: np.ndarray
    anomalous: np.ndarray
    threshold: float
    step_s: float
    model: Model
    expected_low: np.ndarray
    expected_high: np.ndarray
    events: list[AnomalyEvent]
    enough_history: bool
    history_samples: int
    required_samples: int


SENSITIVITIES = {
    "standard": forecast_pb2.SENSITIVITY_STANDARD,
    "low-fp": forecast_pb2.SENSITIVITY_LOW_FALSE_POSITIVES,
    "low-fn": forecast_pb2.SENSITIVITY_LOW_FALSE_NEGATIVES,
}


def _ms_time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _seconds(value: float | str) -> float:
    return parse_duration(value) if isinstance(value, str) else float(value)


def _duration(seconds: float) -> Duration:
    message = Duration()
    message.FromNanoseconds(round(seconds * 1e9))
    return message


def _time(ms: int) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None


def _series(message: series_pb2.SeriesKey) -> Series:
    return Series(message.metric, dict(message.labels))


def _limits(message: forecast_pb2.PhysicalLimits) -> Limits:
    return Limits(message.lower if message.HasField("lower") else None,
                  message.upper if message.HasField("upper") else None,
                  message.reason, message.applied)


def _crossing(response: forecast_pb2.TimeToThresholdResponse) -> ThresholdCrossing:
    return ThresholdCrossing(
        series=_series(response.series),
        will_cross=response.will_cross,
        expected=_time(response.crossing_timestamp_ms),
        earliest=_time(response.earliest_timestamp_ms),
        latest=_time(response.latest_timestamp_ms),
        time_remaining_s=(response.time_remaining.ToMilliseconds() / 1000
                          if response.HasField("time_remaining") else None),
        already_crossed=response.already_crossed,
        last_value=response.last_value,
        level=response.level,
        horizon_s=response.horizon.ToMilliseconds() / 1000,
        model=_model(response.model),
        probability=response.probability,
        threshold=response.threshold,
        searched_s=response.searched.ToMilliseconds() / 1000,
        reach_limited=response.reach_limited,
        limits=_limits(response.limits),
    )


def _threshold_fields(threshold: float | str) -> dict:
    """Request fields for a threshold: a number, "10%" of capacity, or a node-reported amount."""
    if isinstance(threshold, str):
        if threshold in THRESHOLD_SOURCES:
            return {"threshold_source": THRESHOLD_SOURCES[threshold]}
        if threshold.endswith("%"):
            try:
                return {"capacity_percent": float(threshold[:-1])}
            except ValueError:
                pass
        raise ValueError(f"threshold {threshold!r} is not a number, a percentage of capacity "
                         f"such as 10%, or one of {', '.join(THRESHOLD_SOURCES)}")
    return {"threshold": float(threshold)}


def _aggregation(name: str) -> forecast_pb2.Aggregation:
    if name not in AGGREGATIONS:
        raise ValueError(f"aggregation {name!r} is not one of {', '.join(a for a in AGGREGATIONS if a)}")
    return AGGREGATIONS[name]


def _model(message: forecast_pb2.ModelInfo) -> Model:
    period = message.season_period.ToMilliseconds() / 1000 if message.HasField("season_period") else None
    return Model(message.name, message.reason, dict(message.parameters), message.observations,
                 message.residual_std, message.rate_of_counter, message.season_length, period,
                 message.backtest_mae, message.backtest_mase)


class InfracastClient:
    """A connection to one infracast server. Every call raises a ClientError subclass on failure."""

    def __init__(self, target: str, timeout_s: float = 10.0, tls: TlsOptions | None = None,
                 token: str | None = None) -> None:
        self.target = target
        self.timeout_s = timeout_s
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._channel = open_channel(target, tls)
        self._forecasts = forecast_pb2_grpc.ForecastServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._status = status_pb2_grpc.StatusServiceStub(self._channel)

    def __enter__(self) -> InfracastClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def _call(self, method, request, timeout_s: float | None = None):
        """One RPC within timeout_s (the client's by default); a refusal carrying the server's
        retry hint (RetryInfo: rate limited, shutting down) is retried after that delay while
        the deadline allows."""
        timeout_s = timeout_s or self.timeout_s
        deadline = time.monotonic() + timeout_s
        for attempt in range(MAX_HINTED_RETRIES + 1):
            try:
                return method(request, timeout=max(deadline - time.monotonic(), 0.001),
                              metadata=self._metadata)
            except grpc.RpcError as error:
                failure = translate(error, self.target, timeout_s)
            delay = failure.retry_after_s
            retryable = failure.code in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE)
            if (not retryable or delay is None or attempt == MAX_HINTED_RETRIES
                    or time.monotonic() + delay >= deadline):
                raise failure from None
            time.sleep(delay)
        raise AssertionError("unreachable")

    def list_series(self, selector: str = "", limit: int = 0) -> tuple[list[SeriesInfo], bool]:
        """Series matching the selector (all when empty) and whether the list was truncated."""
        response = self._call(
            self._forecasts.ListSeries, forecast_pb2.ListSeriesRequest(selector=selector, limit=limit)
        )
        return [
            SeriesInfo(_series(s.key), s.sample_count, _ms_time(s.first_timestamp_ms),
                       _ms_time(s.last_timestamp_ms), s.last_value, METRIC_TYPES.get(s.descriptor.type, ""),
                       s.descriptor.unit, s.descriptor.help)
            for s in response.series
        ], response.truncated

    def metric_meaning(self, metric: str) -> MetricMeaning:
        """The metric's declared type and unit, from any of its series; the _total suffix
        decides counters only where nobody declared a type."""
        series, _ = self.list_series(metric, limit=1)
        declared = series[0] if series else None
        counter = (declared.type == "counter" if declared is not None and declared.type
                   else metric.endswith("_total"))
        return MetricMeaning(counter, declared.unit if declared is not None else "")

    def forecast(self, selector: str, horizon: float | str = "1h",
                 levels: Sequence[float] = (80.0, 95.0), aggregate: str = "") -> Forecast:
        """Forecast one series (or, with aggregate "sum", "avg", "max" or "min", every
        series the selector matches combined); horizon in seconds or a duration like '6h'."""
        request = forecast_pb2.ForecastRequest(
            selector=selector, horizon=_duration(_seconds(horizon)), levels=list(levels),
            aggregation=_aggregation(aggregate),
        )
        response = self._call(self._forecasts.Forecast, request)
        return Forecast(
            series=_series(response.series),
            timestamps=np.asarray(response.timestamps_ms, dtype="datetime64[ms]"),
            mean=np.asarray(response.mean),
            lower={i.level: np.asarray(i.lower) for i in response.intervals},
            upper={i.level: np.asarray(i.upper) for i in response.intervals},
            model=_model(response.model),
            step_s=response.step.ToMilliseconds() / 1000,
            last_timestamp=_ms_time(response.last_timestamp_ms),
            last_value=response.last_value,
            limits=_limits(response.limits),
        )

    def time_to_threshold(self, selector: str, threshold: float | str, *, falling: bool = False,
                          horizon: float | str = "7d", level: float = 80.0,
                          aggregate: str = "") -> ThresholdCrossing:
        """When the series crosses the threshold (rising by default) within the horizon.

        `threshold` is a level in the series' unit, a share of its capacity such as "10%"
        (of its file system's size, its node's memory), or "allocatable-memory" /
        "allocatable-cpu": the amount the series' Kubernetes node reported.
        """
        request = forecast_pb2.TimeToThresholdRequest(
            selector=selector,
            direction=forecast_pb2.DIRECTION_FALLING if falling else forecast_pb2.DIRECTION_RISING,
            horizon=_duration(_seconds(horizon)),
            level=level,
            aggregation=_aggregation(aggregate),
            **_threshold_fields(threshold),
        )
        return _crossing(self._call(self._forecasts.TimeToThreshold, request))

    def threshold_crossings(self, selector: str, threshold: float | str, *, falling: bool = False,
                            within: float | str = "24h", level: float = 80.0,
                            min_probability: float = 0.5, page_size: int = 0,
                            page_token: str = "", timeout_s: float | None = None) -> CrossingList:
        """Every series the selector matches that crosses the threshold within `within`
        (expected, or with at least min_probability), soonest first; one page of them.

        A fleet-wide question forecasts every matching series (tens of milliseconds each the
        first time, cached after), so its deadline is at least FLEET_TIMEOUT_S by default."""
        fields = _threshold_fields(threshold)
        if "threshold_source" in fields:
            raise ValueError("a fleet-wide question takes a number or a percentage of capacity")
        request = forecast_pb2.ListThresholdCrossingsRequest(
            selector=selector,
            direction=forecast_pb2.DIRECTION_FALLING if falling else forecast_pb2.DIRECTION_RISING,
            within=_duration(_seconds(within)), level=level, min_probability=min_probability,
            page_size=page_size, page_token=page_token, **fields,
        )
        response = self._call(self._forecasts.ListThresholdCrossings, request,
                              timeout_s or max(self.timeout_s, FLEET_TIMEOUT_S))
        return CrossingList([_crossing(c) for c in response.crossings], response.examined,
                            [(_series(s.series), s.reason) for s in response.skipped],
                            response.next_page_token)

    def detect_anomalies(self, selector: str, window: float | str = "1h", threshold: float = 0.0,
                         sensitivity: str = "standard") -> Anomalies:
        """Anomaly scores and events of the window's points, from the server's streaming
        detector for the series. sensitivity: "standard", "low-fp" or "low-fn"; a threshold
        (a score in (0, 1]) overrides the sensitivity's."""
        request = forecast_pb2.DetectAnomaliesRequest(
            selector=selector, window=_duration(_seconds(window)), threshold=threshold,
            sensitivity=SENSITIVITIES[sensitivity])
        response = self._call(self._forecasts.DetectAnomalies, request)
        points = response.scores
        return Anomalies(
            series=_series(response.series),
            timestamps=np.asarray([p.timestamp_ms for p in points], dtype="datetime64[ms]"),
            values=np.asarray([p.value for p in points]),
            expected=np.asarray([p.expected for p in points]),
            scores=np.asarray([p.score for p in points]),
            anomalous=np.asarray([p.anomalous for p in points], dtype=bool),
            threshold=response.threshold,
            step_s=response.step.ToMilliseconds() / 1000,
            model=_model(response.model),
            expected_low=np.asarray([p.expected_low for p in points]),
            expected_high=np.asarray([p.expected_high for p in points]),
            events=[AnomalyEvent(_ms_time(e.start_timestamp_ms), _ms_time(e.end_timestamp_ms),
                                 _ms_time(e.peak_timestamp_ms), e.peak_score, e.expected_low,
                                 e.expected_high, e.value) for e in response.events],
            enough_history=response.enough_history,
            history_samples=response.history_samples,
            required_samples=response.required_samples,
        )

    def status(self) -> ServerStatus:
        """Version, uptime, component states, counts and configuration of the server."""
        response = self._call(self._status.GetStatus, status_pb2.GetStatusRequest())
        return ServerStatus(
            version=response.version, profile=response.profile,
            started=_time(response.started_timestamp_ms) or datetime.fromtimestamp(0, tz=UTC),
            uptime_s=response.uptime.ToMilliseconds() / 1000,
            components={c.name: (status_pb2.ComponentState.Name(c.state).removeprefix(
                "COMPONENT_STATE_").lower(), c.detail) for c in response.components},
            counts=dict(response.counts), configuration=dict(response.configuration),
            nodes=[NodeState(n.name, n.agent_connected, n.in_cluster, _time(n.last_connected_timestamp_ms),
                             n.agent_version, dict(n.labels), n.allocatable_cpu_cores,
                             n.allocatable_memory_bytes) for n in response.nodes])

    def health(self, service: str = "") -> str:
        """SERVING, NOT_SERVING or SERVICE_UNKNOWN for a service ("" is the whole server)."""
        try:
            response = self._health.Check(
                health_pb2.HealthCheckRequest(service=service), timeout=self.timeout_s
            )
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return "SERVICE_UNKNOWN"
            raise translate(error, self.target, self.timeout_s) from None
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
