"""What a chart shows, asked of the server: recent history, the forecast, and a threshold crossing.

History comes from DetectAnomalies (the values on the same grid the model saw, counters
as rates), so anomalous points can be marked too. A horizon longer than the history
supports (5 times its span) is refused by the server; the chart then uses the longest
horizon allowed and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infracast.clients.client import Forecast, InfracastClient, ThresholdCrossing
from infracast.clients.errors import ClientError, FailedPrecondition
from infracast.common.durations import format_duration

MAX_HISTORY_S = 7 * 86400.0  # DetectAnomalies' longest window
REACH = 5.0  # a forecast reaches at most this many times its history's span


@dataclass(frozen=True)
class ChartData:
    forecast: Forecast
    history_times: np.ndarray  # datetime64[ms]
    history_values: np.ndarray
    anomalous: np.ndarray  # bool, per history point
    crossing: ThresholdCrossing | None
    falling: bool
    notes: list[str]  # what the chart could not show as asked, and why
    unit: str = ""  # the metric's declared unit ("" when none: the name's suffix tells)


def _history_span_s(client: InfracastClient, selector: str) -> float:
    series, _ = client.list_series(selector, limit=2)
    if len(series) != 1:
        return 0.0
    return (series[0].last - series[0].first).total_seconds()


def _forecast(client: InfracastClient, selector: str, horizon_s: float, notes: list[str]) -> Forecast:
    try:
        return client.forecast(selector, horizon_s, (80.0, 95.0))
    except FailedPrecondition as refused:
        allowed = REACH * _history_span_s(client, selector) * 0.99
        if allowed <= 0 or allowed >= horizon_s:
            raise
        notes.append(f"horizon shortened to {format_duration(allowed)} (asked {format_duration(horizon_s)}): "
                     f"{refused}")
        return client.forecast(selector, allowed, (80.0, 95.0))


def ask(client: InfracastClient, selector: str, horizon_s: float, history_s: float | None = None,
        threshold: float | str | None = None, falling: bool = False) -> ChartData:
    notes: list[str] = []
    forecast = _forecast(client, selector, horizon_s, notes)
    shown_horizon = (forecast.timestamps[-1].astype("int64") / 1000 - forecast.last_timestamp.timestamp()
                     if len(forecast.timestamps) else horizon_s)
    window = min(history_s or max(2 * shown_horizon, 3600.0), MAX_HISTORY_S)
    times, values, flags = np.array([], dtype="datetime64[ms]"), np.array([]), np.array([], dtype=bool)
    try:
        history = client.detect_anomalies(str(forecast.series), window)
        times, values, flags = history.timestamps, history.values, history.anomalous
    except ClientError as error:  # the chart still shows the forecast
        notes.append(f"no history shown: {error}")
    crossing = None
    if threshold is not None:
        crossing = client.time_to_threshold(str(forecast.series), threshold, falling=falling,
                                            horizon=shown_horizon)
    unit = client.metric_meaning(forecast.series.metric).unit
    return ChartData(forecast, times, values, flags, crossing, falling, notes, unit)
