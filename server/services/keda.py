"""KEDA's external scaler (externalscaler.ExternalScaler) over infracast's forecasts, so a
ScaledObject scales on where a metric is going rather than where it is.

Scaler metadata (the ScaledObject trigger's `metadata`):
  selector         the series, as in Forecast (required)
  aggregation      sum, avg, max or min, when the selector matches several series
  horizon          how far ahead to look (default 10m)
  statistic        peak (the highest forecast point within the horizon, default), mean, or end
  quantile         0.5 (the forecast's mean, default) or the upper bound of an interval:
                   0.9 is the 80 % interval's upper bound, 0.975 the 95 % one's
  target           the value one replica of the workload handles (required): KEDA's HPA
                   runs value / target replicas
  activationValue  the workload is active (scaled up from zero) while the forecast statistic
                   is above it (default 0)
  metricName       the name KEDA's HPA shows (default infracast-<statistic>)
  streamInterval   how often StreamIsActive re-evaluates (default 30s)
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from grpc import aio

from infracast.common.durations import parse_duration
from infracast.keda import externalscaler_pb2, externalscaler_pb2_grpc
from infracast.server.answers.predictions import Predictor
from infracast.server.errors import InvalidArgument

STATISTICS = ("peak", "mean", "end")
QUANTILE_LEVELS = {"0.5": None, "0.9": 80.0, "0.975": 95.0}


@dataclass(frozen=True)
class ScalerQuestion:
    selector: str
    aggregation: str
    horizon_ms: int
    statistic: str
    level: float | None  # None: the mean
    target: float
    activation: float
    metric_name: str
    stream_interval_s: float


def scaler_question(metadata: Mapping[str, str]) -> ScalerQuestion:
    selector = metadata.get("selector", "").strip()
    if not selector:
        raise InvalidArgument("scaler metadata needs a selector, e.g. selector: 'http_requests_in_flight'")
    statistic = metadata.get("statistic", "peak")
    if statistic not in STATISTICS:
        raise InvalidArgument(f"statistic must be one of {', '.join(STATISTICS)}, got {statistic!r}")
    quantile = metadata.get("quantile", "0.5")
    if quantile not in QUANTILE_LEVELS:
        raise InvalidArgument(f"quantile must be one of {', '.join(QUANTILE_LEVELS)}, got {quantile!r}")
    target = _number(metadata, "target", None)
    if not target > 0:
        raise InvalidArgument("target (the value one replica handles) must be positive")
    return ScalerQuestion(
        selector=selector, aggregation=metadata.get("aggregation", ""),
        horizon_ms=int(_duration(metadata, "horizon", "10m") * 1000), statistic=statistic,
        level=QUANTILE_LEVELS[quantile], target=target,
        activation=_number(metadata, "activationValue", 0.0),
        metric_name=metadata.get("metricName", f"infracast-{statistic}"),
        stream_interval_s=_duration(metadata, "streamInterval", "30s"))


def _number(metadata: Mapping[str, str], name: str, default: float | None) -> float:
    text = metadata.get(name)
    if text is None:
        if default is None:
            raise InvalidArgument(f"scaler metadata needs {name}")
        return default
    try:
        value = float(text)
    except ValueError:
        raise InvalidArgument(f"{name} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InvalidArgument(f"{name} must be finite")
    return value


def _duration(metadata: Mapping[str, str], name: str, default: str) -> float:
    text = metadata.get(name, default)
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise InvalidArgument(f"{name}: {error}") from None
    if seconds <= 0:
        raise InvalidArgument(f"{name} must be positive")
    return seconds


class ExternalScalerServicer(externalscaler_pb2_grpc.ExternalScalerServicer):
    def __init__(self, predictor: Predictor) -> None:
        self._predictor = predictor

    async def predicted(self, question: ScalerQuestion) -> float:
        """The forecast statistic the scaler reports (the same answer Forecast gives)."""
        levels = [question.level] if question.level is not None else [80.0]
        _, outlook = await self._predictor.forecast(question.selector, question.horizon_ms, levels,
                                                    question.aggregation)
        path = outlook.mean if question.level is None else outlook.upper[question.level]
        if question.statistic == "peak":
            return float(np.max(path))
        if question.statistic == "mean":
            return float(np.mean(path))
        return float(path[-1])

    async def IsActive(self, request, context: aio.ServicerContext):
        question = scaler_question(request.scalerMetadata)
        active = await self.predicted(question) > question.activation
        return externalscaler_pb2.IsActiveResponse(result=active)

    async def StreamIsActive(self, request, context: aio.ServicerContext):
        question = scaler_question(request.scalerMetadata)
        last = None
        while True:
            active = await self.predicted(question) > question.activation
            if active != last:
                yield externalscaler_pb2.IsActiveResponse(result=active)
                last = active
            await asyncio.sleep(question.stream_interval_s)

    async def GetMetricSpec(self, request, context: aio.ServicerContext):
        question = scaler_question(request.scalerMetadata)
        return externalscaler_pb2.GetMetricSpecResponse(metricSpecs=[externalscaler_pb2.MetricSpec(
            metricName=question.metric_name, targetSize=math.ceil(question.target),
            targetSizeFloat=question.target)])

    async def GetMetrics(self, request, context: aio.ServicerContext):
        question = scaler_question(request.scaledObjectRef.scalerMetadata)
        value = await self.predicted(question)
        return externalscaler_pb2.GetMetricsResponse(metricValues=[externalscaler_pb2.MetricValue(
            metricName=request.metricName or question.metric_name, metricValue=math.ceil(value),
            metricValueFloat=value)])
