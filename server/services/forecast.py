"""ForecastService: forecasts, threshold times and the series list."""

from __future__ import annotations

import asyncio

from google.protobuf.duration_pb2 import Duration
from grpc import aio

from infracast.server.answers.predictions import Predictor, ThresholdAnswer
from infracast.server.errors import InvalidArgument
from infracast.server.services.codec import (
    descriptor_message,
    duration_message,
    limits_message,
    model_message,
    series_key_message,
)
from infracast.v1 import forecast_pb2, forecast_pb2_grpc

DEFAULT_FORECAST_HORIZON_MS = 3600 * 1000
DEFAULT_THRESHOLD_HORIZON_MS = 7 * 86400 * 1000
DEFAULT_THRESHOLD_LEVEL = 80.0
# Each level adds two bounds per step to an answer: 1,000 levels made a 5.8 MB answer,
# over a client's default receive limit.
MAX_LEVELS = 10
DEFAULT_WITHIN_MS = 86400 * 1000
DEFAULT_MIN_PROBABILITY = 0.5
DEFAULT_ANOMALY_WINDOW_MS = 3600 * 1000
SENSITIVITIES = {
    forecast_pb2.SENSITIVITY_UNSPECIFIED: "standard",
    forecast_pb2.SENSITIVITY_STANDARD: "standard",
    forecast_pb2.SENSITIVITY_LOW_FALSE_POSITIVES: "low_fp",
    forecast_pb2.SENSITIVITY_LOW_FALSE_NEGATIVES: "low_fn",
}


def _horizon_ms(message: Duration, has_field: bool, default_ms: int) -> int:
    """An unset horizon takes the default; a set one (even zero) is validated as given."""
    return message.ToMilliseconds() if has_field else default_ms


class ForecastServicer(forecast_pb2_grpc.ForecastServiceServicer):
    def __init__(self, predictor: Predictor) -> None:
        self._predictor = predictor

    async def Forecast(
        self, request: forecast_pb2.ForecastRequest, context: aio.ServicerContext
    ) -> forecast_pb2.ForecastResponse:
        horizon_ms = _horizon_ms(
            request.horizon, request.HasField("horizon"), DEFAULT_FORECAST_HORIZON_MS
        )
        if len(set(request.levels)) > MAX_LEVELS:
            raise InvalidArgument(f"{len(set(request.levels))} interval levels; at most {MAX_LEVELS} "
                                  "are allowed")
        key, outlook = await self._predictor.forecast(
            request.selector, horizon_ms, request.levels, _aggregation(request.aggregation))
        return forecast_pb2.ForecastResponse(
            series=series_key_message(key),
            timestamps_ms=outlook.timestamps_ms.tolist(),
            mean=outlook.mean.tolist(),
            intervals=[
                forecast_pb2.PredictionInterval(
                    level=level,
                    lower=outlook.lower[level].tolist(),
                    upper=outlook.upper[level].tolist(),
                )
                for level in sorted(outlook.lower)
            ],
            model=model_message(outlook.model, outlook.rate_of_counter, outlook.step_ms),
            step=duration_message(outlook.step_ms),
            last_timestamp_ms=outlook.last_timestamp_ms,
            last_value=outlook.last_value,
            limits=limits_message(outlook.limits, outlook.limits_applied),
        )

    async def TimeToThreshold(
        self, request: forecast_pb2.TimeToThresholdRequest, context: aio.ServicerContext
    ) -> forecast_pb2.TimeToThresholdResponse:
        horizon_ms = _horizon_ms(
            request.horizon, request.HasField("horizon"), DEFAULT_THRESHOLD_HORIZON_MS
        )
        answer = await self._predictor.time_to_threshold(
            request.selector,
            request.threshold,
            rising=_rising(request.direction),
            horizon_ms=horizon_ms,
            level=request.level or DEFAULT_THRESHOLD_LEVEL,
            node_resource=_node_resource(request.threshold_source),
            capacity_percent=request.capacity_percent,
            aggregation=_aggregation(request.aggregation),
        )
        return _crossing_message(answer)

    async def ListThresholdCrossings(
        self, request: forecast_pb2.ListThresholdCrossingsRequest, context: aio.ServicerContext
    ) -> forecast_pb2.ListThresholdCrossingsResponse:
        within_ms = _horizon_ms(request.within, request.HasField("within"), DEFAULT_WITHIN_MS)
        found = await self._predictor.at_risk(
            request.selector, request.threshold, _rising(request.direction), within_ms,
            request.level or DEFAULT_THRESHOLD_LEVEL, request.capacity_percent,
            request.min_probability or DEFAULT_MIN_PROBABILITY, request.page_size, request.page_token)
        return forecast_pb2.ListThresholdCrossingsResponse(
            crossings=[_crossing_message(answer) for answer in found.answers],
            examined=found.examined,
            skipped=[forecast_pb2.SkippedSeries(series=series_key_message(key), reason=why)
                     for key, why in found.lacking_history],
            next_page_token=found.next_page_token,
        )

    async def ListSeries(
        self, request: forecast_pb2.ListSeriesRequest, context: aio.ServicerContext
    ) -> forecast_pb2.ListSeriesResponse:
        # Matching every series against the selector takes a while on a big server, and with
        # store=prometheus the list is read from the TSDB: off the event loop, so health and
        # ingest are answered meanwhile.
        summaries, truncated = await asyncio.to_thread(
            self._predictor.list_series, request.selector, request.limit)
        return forecast_pb2.ListSeriesResponse(
            series=[
                forecast_pb2.SeriesInfo(
                    key=series_key_message(s.key),
                    sample_count=s.sample_count,
                    first_timestamp_ms=s.first_timestamp_ms,
                    last_timestamp_ms=s.last_timestamp_ms,
                    last_value=s.last_value,
                    descriptor=descriptor_message(s.key.metric, self._predictor.descriptor(s.key.metric)),
                )
                for s in summaries
            ],
            truncated=truncated,
        )

    async def DetectAnomalies(
        self, request: forecast_pb2.DetectAnomaliesRequest, context: aio.ServicerContext
    ) -> forecast_pb2.DetectAnomaliesResponse:
        window_ms = _horizon_ms(request.window, request.HasField("window"), DEFAULT_ANOMALY_WINDOW_MS)
        if request.sensitivity not in SENSITIVITIES:
            raise InvalidArgument(f"unknown sensitivity {request.sensitivity}")
        answer = await self._predictor.detect_anomalies(
            request.selector, window_ms, request.threshold, SENSITIVITIES[request.sensitivity])
        p = answer.points
        starts = {event.start_ms for event in answer.events}
        return forecast_pb2.DetectAnomaliesResponse(
            series=series_key_message(answer.key),
            scores=[
                forecast_pb2.AnomalyScore(
                    timestamp_ms=int(t), value=float(v), expected=float((low + high) / 2),
                    score=float(score), anomalous=int(t) in starts, expected_low=float(low),
                    expected_high=float(high), learning=bool(learning))
                for t, v, score, low, high, learning in zip(
                    p.timestamps_ms, p.values, p.scores, p.expected_low, p.expected_high,
                    p.learning, strict=True)
            ],
            threshold=answer.threshold,
            anomalous_count=len(answer.events),
            model=forecast_pb2.ModelInfo(
                name="streaming-anomaly",
                reason="level and daily-profile surprise, anomaly likelihood, range novelty",
                observations=answer.history_samples, rate_of_counter=answer.rate_of_counter),
            step=duration_message(answer.step_ms),
            events=[
                forecast_pb2.AnomalyEvent(
                    start_timestamp_ms=e.start_ms, end_timestamp_ms=e.end_ms,
                    peak_timestamp_ms=e.peak_ms, peak_score=e.peak_score,
                    expected_low=e.expected_low, expected_high=e.expected_high, value=e.value)
                for e in answer.events
            ],
            enough_history=answer.enough_history,
            history_samples=answer.history_samples,
            required_samples=answer.required_samples,
        )


def _crossing_message(answer: ThresholdAnswer) -> forecast_pb2.TimeToThresholdResponse:
    crossing, outlook = answer.crossing, answer.outlook
    response = forecast_pb2.TimeToThresholdResponse(
        series=series_key_message(answer.key),
        will_cross=crossing.expected_ms is not None,
        crossing_timestamp_ms=crossing.expected_ms or 0,
        earliest_timestamp_ms=crossing.earliest_ms or 0,
        latest_timestamp_ms=crossing.latest_ms or 0,
        already_crossed=crossing.already_crossed,
        last_value=outlook.last_value,
        horizon=duration_message(answer.horizon_ms),
        level=answer.level,
        model=model_message(outlook.model, outlook.rate_of_counter, outlook.step_ms),
        probability=crossing.probability,
        threshold=answer.threshold,
        searched=duration_message(outlook.plan.searched_ms),
        reach_limited=outlook.plan.reach_limited,
        limits=limits_message(outlook.limits, outlook.limits_applied),
    )
    if crossing.expected_ms is not None:
        response.time_remaining.CopyFrom(duration_message(crossing.expected_ms - outlook.last_timestamp_ms))
    return response


def _rising(direction: int) -> bool:
    if direction == forecast_pb2.DIRECTION_RISING:
        return True
    if direction == forecast_pb2.DIRECTION_FALLING:
        return False
    raise InvalidArgument(
        f"direction must be DIRECTION_RISING or DIRECTION_FALLING, got {direction}: say which way "
        "the series has to move to cross the threshold")


def _aggregation(value: int) -> str:
    names: dict[int, str] = {forecast_pb2.AGGREGATION_UNSPECIFIED: "", forecast_pb2.AGGREGATION_SUM: "sum",
             forecast_pb2.AGGREGATION_AVG: "avg", forecast_pb2.AGGREGATION_MAX: "max",
             forecast_pb2.AGGREGATION_MIN: "min"}
    if value not in names:
        raise InvalidArgument(f"unknown aggregation {value}")
    return names[value]


def _node_resource(source: int) -> str | None:
    if source == forecast_pb2.THRESHOLD_SOURCE_UNSPECIFIED:
        return None
    if source == forecast_pb2.THRESHOLD_SOURCE_NODE_ALLOCATABLE_MEMORY:
        return "memory"
    if source == forecast_pb2.THRESHOLD_SOURCE_NODE_ALLOCATABLE_CPU:
        return "cpu"
    raise InvalidArgument(f"unknown threshold_source {source}")
