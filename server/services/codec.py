"""Conversions between protobuf messages and domain values, for the servicers only."""

from __future__ import annotations

from google.protobuf.duration_pb2 import Duration

from infracast.server.forecast.engine import ModelDescription
from infracast.server.series import SeriesKey
from infracast.v1 import forecast_pb2, series_pb2


def series_key_message(key: SeriesKey) -> series_pb2.SeriesKey:
    return series_pb2.SeriesKey(metric=key.metric, labels=dict(key.labels))


def model_message(model: ModelDescription, rate_of_counter: bool) -> forecast_pb2.ModelInfo:
    return forecast_pb2.ModelInfo(
        name=model.name,
        reason=model.reason,
        parameters={name: float(value) for name, value in model.parameters.items()},
        observations=model.observations,
        residual_std=model.residual_std,
        rate_of_counter=rate_of_counter,
    )


def duration_message(milliseconds: int) -> Duration:
    message = Duration()
    message.FromMilliseconds(milliseconds)
    return message
