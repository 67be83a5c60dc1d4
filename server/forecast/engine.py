"""The forecast engine's Python layer: choose a model, run its kernels, build the answer.

Two entry points:
  forecast_values(values, horizon, levels)      equally spaced values -> Forecast
  forecast_samples(timestamps_ms, values, ...)  raw samples of a series -> SeriesForecast
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from infracast.server.forecast import holt_kernels as holt
from infracast.server.forecast.grid import counter_rate, native_step_ms, to_grid
from infracast.server.forecast.linear_kernels import linear_fit, linear_prediction_std

DEFAULT_LEVELS = (80.0, 95.0)
MIN_POINTS_FOR_SMOOTHING = 24
MAX_HISTORY_POINTS = 4032  # two weeks of 5-minute points
MAX_HORIZON_POINTS = 720


@dataclass(frozen=True)
class ModelDescription:
    name: str
    reason: str
    parameters: dict[str, float] = field(default_factory=dict)
    observations: int = 0
    residual_std: float = 0.0


@dataclass(frozen=True)
class Forecast:
    """Point forecast and bounds for steps 1..horizon; bounds keyed by level in percent."""

    mean: np.ndarray
    lower: dict[float, np.ndarray]
    upper: dict[float, np.ndarray]
    model: ModelDescription


@dataclass(frozen=True)
class SeriesForecast:
    """A Forecast placed in time, for a series given as raw samples."""

    timestamps_ms: np.ndarray
    forecast: Forecast
    step_ms: int
    last_timestamp_ms: int
    last_value: float
    rate_of_counter: bool


def _z(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 200.0)


def _check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    for level in levels:
        if not 0.0 < level < 100.0:
            raise ValueError(f"interval level {level} is outside (0, 100)")
    return tuple(sorted(set(levels))) or DEFAULT_LEVELS


def forecast_values(
    values: np.ndarray, horizon: int, levels: Sequence[float] = DEFAULT_LEVELS
) -> Forecast:
    """Forecast equally spaced values `horizon` steps ahead.

    values : (n,) finite float64, n >= 1 (NaN values are treated as gaps and interpolated)
    Returns the point forecast (horizon,) and lower/upper bounds (horizon,) per level.
    """
    if horizon < 1:
        raise ValueError("horizon must be at least one step")
    levels = _check_levels(levels)
    y = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(y)
    if not finite.any():
        raise ValueError("no finite values to forecast from")
    if not finite.all():
        positions = np.arange(len(y))
        y = np.interp(positions, positions[finite], y[finite])
    if len(y) >= MIN_POINTS_FOR_SMOOTHING and np.ptp(y) > 0:
        return _damped_holt(y, horizon, levels)
    return _linear_trend(y, horizon, levels)


def _damped_holt(y: np.ndarray, horizon: int, levels: tuple[float, ...]) -> Forecast:
    alpha, beta, phi, _ = holt.holt_fit(y, holt.ALPHAS, holt.BETA_RATIOS, holt.PHIS)
    level, trend, sigma = holt.holt_final_state(y, alpha, beta, phi)
    mean = holt.holt_forecast(level, trend, phi, horizon)
    spread = sigma * np.sqrt(holt.holt_variance_factors(alpha, beta, phi, horizon))
    model = ModelDescription(
        name="damped_holt",
        reason=f"{len(y)} points: damped-trend exponential smoothing fitted by squared error",
        parameters={"alpha": alpha, "beta": beta, "phi": phi, "level": level, "trend": trend},
        observations=len(y),
        residual_std=float(sigma),
    )
    return _with_bounds(mean, spread, levels, model)


def _linear_trend(y: np.ndarray, horizon: int, levels: tuple[float, ...]) -> Forecast:
    """A line when the data show a trend; their mean (or last value) when they do not.

    Extrapolating a slope that noise alone could explain, far past a short history,
    is how a 2-minute-old CPU series gets forecast to 100 %: require |t| >= 2.
    """
    n = len(y)
    if n < 3:
        spread = np.full(horizon, abs(y[-1] - y[0]))
        model = ModelDescription(
            name="naive", reason=f"only {n} point(s): the last value carried forward",
            observations=n, residual_std=float(spread[0]),
        )
        return _with_bounds(np.full(horizon, y[-1]), spread, levels, model)
    t = np.arange(n, dtype=np.float64)
    intercept, slope, sigma, t_mean, sxx = linear_fit(t, y)
    future = np.arange(n, n + horizon, dtype=np.float64)
    why = f"only {n} points (smoothing needs {MIN_POINTS_FOR_SMOOTHING})" \
        if n < MIN_POINTS_FOR_SMOOTHING else "constant series"
    trend_t = abs(slope) * np.sqrt(sxx) / sigma if sigma > 0 else (np.inf if slope else 0.0)
    if trend_t < 2.0:
        level_std = float(np.std(y, ddof=1))
        model = ModelDescription(
            name="mean", reason=f"{why}, no significant trend: their mean",
            parameters={"mean": float(y.mean())}, observations=n, residual_std=level_std,
        )
        spread = np.full(horizon, level_std * np.sqrt(1 + 1 / n))
        return _with_bounds(np.full(horizon, y.mean()), spread, levels, model)
    model = ModelDescription(
        name="linear_trend",
        reason=f"{why}: least-squares line",
        parameters={"intercept": intercept, "slope": slope},
        observations=n,
        residual_std=float(sigma),
    )
    spread = linear_prediction_std(sigma, n, t_mean, sxx, future)
    return _with_bounds(intercept + slope * future, spread, levels, model)


def _with_bounds(
    mean: np.ndarray, spread: np.ndarray, levels: tuple[float, ...], model: ModelDescription
) -> Forecast:
    lower = {level: mean - _z(level) * spread for level in levels}
    upper = {level: mean + _z(level) * spread for level in levels}
    return Forecast(mean, lower, upper, model)


def forecast_samples(
    timestamps_ms: np.ndarray,
    values: np.ndarray,
    horizon_ms: int,
    levels: Sequence[float] = DEFAULT_LEVELS,
    is_counter: bool = False,
    value_range: tuple[float, float] = (-math.inf, math.inf),
) -> SeriesForecast:
    """Forecast a series given as raw samples (sorted times in ms, float values).

    NaN samples are gaps. Counters are forecast as their per-second rate. The
    grid step is the series' own sampling interval, coarsened so the horizon
    never needs more than MAX_HORIZON_POINTS points. Forecasts and bounds are
    clipped to value_range (e.g. 0..1 for a ratio, >= 0 for bytes).
    """
    finite = np.isfinite(values)
    timestamps_ms, values = timestamps_ms[finite], values[finite]
    if is_counter:
        timestamps_ms, values = counter_rate(timestamps_ms, values)
    if len(values) == 0:
        raise ValueError("the series has no usable samples yet")
    step_ms = max(native_step_ms(timestamps_ms), math.ceil(horizon_ms / MAX_HORIZON_POINTS))
    grid = to_grid(timestamps_ms, values, step_ms, MAX_HISTORY_POINTS)
    horizon = max(1, math.ceil(horizon_ms / step_ms))
    forecast = _clipped(forecast_values(grid.values, horizon, levels), *value_range)
    last = int(grid.timestamps_ms[-1])
    future = last + step_ms * np.arange(1, horizon + 1, dtype=np.int64)
    return SeriesForecast(
        timestamps_ms=future,
        forecast=forecast,
        step_ms=step_ms,
        last_timestamp_ms=last,
        last_value=float(values[-1]),
        rate_of_counter=is_counter,
    )


def _clipped(forecast: Forecast, low: float, high: float) -> Forecast:
    if low == -math.inf and high == math.inf:
        return forecast
    return Forecast(
        mean=np.clip(forecast.mean, low, high),
        lower={level: np.clip(bound, low, high) for level, bound in forecast.lower.items()},
        upper={level: np.clip(bound, low, high) for level, bound in forecast.upper.items()},
        model=forecast.model,
    )
