"""The chart both renderers draw, in display units: so the terminal and the image show the same thing.

Times are epoch seconds; renderers label them in local time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from infracast.clients.charts.axis import value_axis
from infracast.clients.charts.question import ChartData
from infracast.clients.units import format_value
from infracast.common.durations import format_duration


@dataclass(frozen=True)
class Band:
    level: float
    lower: np.ndarray
    upper: np.ndarray


@dataclass(frozen=True)
class Picture:
    title: str
    subtitle: str  # the model and why it was chosen
    y_label: str
    x_label: str
    history_x: np.ndarray
    history_y: np.ndarray
    anomalies_x: np.ndarray
    anomalies_y: np.ndarray
    forecast_x: np.ndarray
    forecast_y: np.ndarray
    bands: list[Band]  # widest first
    now_x: float
    threshold_y: float | None
    threshold_label: str
    crossing_x: float | None
    crossing_label: str
    notes: list[str]


def _seconds(stamps: np.ndarray) -> np.ndarray:
    return stamps.astype("datetime64[ms]").astype("int64") / 1000.0


def local_zone_name() -> str:
    return datetime.now().astimezone().tzname() or time.strftime("%Z")


def picture(data: ChartData) -> Picture:
    f = data.forecast
    metric = f.series.metric
    levels = sorted(f.lower, reverse=True)
    # Continue the forecast from the last observation so the lines join.
    last_x = f.last_timestamp.timestamp()
    forecast_x = np.concatenate([[last_x], _seconds(f.timestamps)])
    everything = [data.history_values, f.mean, *(f.lower[lv] for lv in levels),
                  *(f.upper[lv] for lv in levels)]
    axis = value_axis(metric, np.concatenate([np.asarray(v, dtype=float) for v in everything]),
                      f.model.rate_of_counter, data.unit)

    def joined(values):
        return axis.scale(np.concatenate([[f.last_value], values]))

    crossing, threshold_y, threshold_label, crossing_label = data.crossing, None, "", ""
    crossing_x = None
    if crossing is not None:
        threshold_y = float(axis.scale([crossing.threshold])[0])
        threshold = format_value(metric, crossing.threshold, f.model.rate_of_counter, data.unit)
        threshold_label = f"threshold {threshold}"
        if crossing.already_crossed:
            crossing_label = "already past the threshold"
        elif crossing.will_cross and crossing.expected is not None:
            crossing_x = crossing.expected.timestamp()
            crossing_label = (f"crossing in {format_duration(crossing.time_remaining_s or 0)} "
                              f"(p {crossing.probability:.0%})")
        else:
            crossing_label = (f"no crossing expected within {format_duration(crossing.searched_s)} "
                              f"(p {crossing.probability:.0%})")
    rate = " (per-second rate)" if f.model.rate_of_counter else ""
    anomalous = np.asarray(data.anomalous, dtype=bool)
    history_x = _seconds(data.history_times)
    history_y = axis.scale(data.history_values)
    return Picture(
        title=f"{f.series}{rate}",
        subtitle=f"model: {f.model.name}",
        y_label=axis.label,
        x_label=f"local time ({local_zone_name()})",
        history_x=history_x, history_y=history_y,
        anomalies_x=history_x[anomalous] if anomalous.size == history_x.size else np.array([]),
        anomalies_y=history_y[anomalous] if anomalous.size == history_y.size else np.array([]),
        forecast_x=forecast_x, forecast_y=joined(f.mean),
        bands=[Band(lv, joined(f.lower[lv]), joined(f.upper[lv])) for lv in levels],
        now_x=last_x, threshold_y=threshold_y, threshold_label=threshold_label,
        crossing_x=crossing_x, crossing_label=crossing_label, notes=list(data.notes),
    )


def time_ticks(start_s: float, end_s: float, count: int = 6) -> tuple[list[float], list[str]]:
    """Tick positions at round local times and their labels (with the weekday past a day)."""
    span = max(end_s - start_s, 1.0)
    steps = [60, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600,
             86400, 2 * 86400, 7 * 86400]
    step = next((s for s in steps if span / s <= count), steps[-1])
    offset = datetime.fromtimestamp(start_s).astimezone().utcoffset()
    shift = offset.total_seconds() if offset else 0.0
    first = np.ceil((start_s + shift) / step) * step - shift  # round in local time, not UTC
    positions = [float(t) for t in np.arange(first, end_s + 1, step)]
    form = "%a %H:%M" if span > 86400 else "%H:%M"
    return positions, [datetime.fromtimestamp(t).strftime(form) for t in positions]
