"""Conversions between protobuf messages and domain values, for the servicers only."""

from __future__ import annotations

import math

from google.protobuf.duration_pb2 import Duration

from infracast.server.answers.limits import Limits
from infracast.server.forecast.engine import ModelDescription
from infracast.server.metadata.descriptors import UNSPECIFIED, MetricDescriptor
from infracast.server.series import SeriesKey
from infracast.v1 import forecast_pb2, series_pb2


def series_key_message(key: SeriesKey) -> series_pb2.SeriesKey:
    return series_pb2.SeriesKey(metric=key.metric, labels=dict(key.labels))


# The one mapping of the wire's MetricType to the domain's type words, read off the generated
# enum (METRIC_TYPE_GAUGE is "gauge"; METRIC_TYPE_UNSPECIFIED the undeclared "").
TYPE_FROM_WIRE: dict[int, str] = {
    number: UNSPECIFIED if number == series_pb2.METRIC_TYPE_UNSPECIFIED
    else name.removeprefix("METRIC_TYPE_").lower()
    for name, number in series_pb2.MetricType.items()}
TYPE_TO_WIRE = {kind: series_pb2.MetricType.Name(number) for number, kind in TYPE_FROM_WIRE.items()}


def descriptor_message(metric: str, descriptor: MetricDescriptor | None) -> series_pb2.MetricDescriptor:
    """The metric's descriptor; type unspecified and unit and help empty when nobody described it."""
    if descriptor is None:
        return series_pb2.MetricDescriptor(metric=metric)
    return series_pb2.MetricDescriptor(
        metric=metric, type=TYPE_TO_WIRE[descriptor.type],
        unit=descriptor.unit, help=descriptor.help)


def model_message(model: ModelDescription, rate_of_counter: bool, step_ms: int) -> forecast_pb2.ModelInfo:
    message = forecast_pb2.ModelInfo(
        name=model.name,
        reason=model.reason,
        parameters={name: float(value) for name, value in model.parameters.items()},
        observations=model.observations,
        residual_std=model.residual_std,
        rate_of_counter=rate_of_counter,
        season_length=model.season_length,
        backtest_mae=_finite_or_zero(model.backtest_mae),
        backtest_mase=_finite_or_zero(model.backtest_mase),
    )
    if model.season_length:
        message.season_period.CopyFrom(duration_message(model.season_length * step_ms))
    return message


def _finite_or_zero(value: float) -> float:
    # Short histories have no backtest; proto3 has no NaN-free "unset" for doubles.
    return value if math.isfinite(value) else 0.0


def duration_message(milliseconds: int) -> Duration:
    message = Duration()
    message.FromMilliseconds(milliseconds)
    return message


def limits_message(limits: Limits, applied: bool) -> forecast_pb2.PhysicalLimits:
    message = forecast_pb2.PhysicalLimits(reason=limits.why, applied=applied)
    if math.isfinite(limits.lower):
        message.lower = limits.lower
    if math.isfinite(limits.upper):
        message.upper = limits.upper
    return message
