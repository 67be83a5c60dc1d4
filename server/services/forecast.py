"""ForecastService: forecasts, threshold times and the series list."""

from __future__ import annotations

from google.protobuf.duration_pb2 import Duration
from grpc import aio

from infracast.server.errors import InvalidArgument
from infracast.server.predictions import Predictor
from infracast.server.services.codec import duration_message, model_message, series_key_message
from infracast.v1 import forecast_pb2, forecast_pb2_grpc

DEFAULT_FORECAST_HORIZON_MS = 3600 * 1000
DEFAULT_THRESHOLD_HORIZON_MS = 7 * 86400 * 1000
DEFAULT_THRESHOLD_LEVEL = 80.0
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
        key, result = await self._predictor.forecast(request.selector, horizon_ms, request.levels)
        forecast = result.forecast
        return forecast_pb2.ForecastResponse(
            series=series_key_message(key),
            timestamps_ms=result.timestamps_ms.tolist(),
            mean=forecast.mean.tolist(),
            intervals=[
                forecast_pb2.PredictionInterval(
                    level=level,
                    lower=forecast.lower[level].tolist(),
                    upper=forecast.upper[level].tolist(),
                )
                for level in sorted(forecast.lower)
            ],
            model=model_message(forecast.model, result.rate_of_counter, result.step_ms),
            step=duration_message(result.step_ms),
            last_timestamp_ms=result.last_timestamp_ms,
            last_value=result.last_value,
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
            rising=request.direction != forecast_pb2.DIRECTION_FALLING,
            horizon_ms=horizon_ms,
            level=request.level or DEFAULT_THRESHOLD_LEVEL,
            node_resource=_node_resource(request.threshold_source),
        )
        crossing, result = answer.crossing, answer.forecast
        response = forecast_pb2.TimeToThresholdResponse(
            series=series_key_message(answer.key),
            will_cross=crossing.expected_ms is not None,
            crossing_timestamp_ms=crossing.expected_ms or 0,
            earliest_timestamp_ms=crossing.earliest_ms or 0,
            latest_timestamp_ms=crossing.latest_ms or 0,
            already_crossed=crossing.already_crossed,
            last_value=result.last_value,
            horizon=duration_message(answer.horizon_ms),
            level=answer.level,
            model=model_message(result.forecast.model, result.rate_of_counter, result.step_ms),
            probability=crossing.probability,
            threshold=answer.threshold,
        )
        if crossing.expected_ms is not None:
            response.time_remaining.CopyFrom(
                duration_message(crossing.expected_ms - result.last_timestamp_ms)
            )
        return response

    async def ListSeries(
        self, request: forecast_pb2.ListSeriesRequest, context: aio.ServicerContext
    ) -> forecast_pb2.ListSeriesResponse:
        summaries, truncated = self._predictor.list_series(request.selector, request.limit)
        return forecast_pb2.ListSeriesResponse(
            series=[
                forecast_pb2.SeriesInfo(
                    key=series_key_message(s.key),
                    sample_count=s.sample_count,
                    first_timestamp_ms=s.first_timestamp_ms,
                    last_timestamp_ms=s.last_timestamp_ms,
                    last_value=s.last_value,
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


def _node_resource(source: int) -> str | None:
    if source == forecast_pb2.THRESHOLD_SOURCE_UNSPECIFIED:
        return None
    if source == forecast_pb2.THRESHOLD_SOURCE_NODE_ALLOCATABLE_MEMORY:
        return "memory"
    if source == forecast_pb2.THRESHOLD_SOURCE_NODE_ALLOCATABLE_CPU:
        return "cpu"
    raise InvalidArgument(f"unknown threshold_source {source}")
