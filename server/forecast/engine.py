"""The forecast engine's Python layer: prepare the data, run the kernels, describe the answer.

Entry points (no grpc, no protobuf):
  forecast_values(values, horizon, season_length, levels)   equally spaced values -> Forecast
  forecast_batch(values_2d, horizon, season_length, levels) many series at once -> BatchForecast
  forecast_samples(timestamps_ms, values, horizon_ms, ...)  raw samples of a series -> SeriesForecast
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from infracast.server.forecast import auto_kernels as auto
from infracast.server.forecast.fit_layout import INFO, MODELS, member_offsets
from infracast.server.forecast.grid import counter_rate, native_step_ms, to_grid
from infracast.server.forecast.season_kernels import MIN_CYCLES, dominant_period, seasonal_profile

DEFAULT_LEVELS = (80.0, 95.0)
MAX_HISTORY_POINTS = 4032  # two weeks of 5-minute points
MAX_HORIZON_POINTS = 720
PREDICT_LINEAR_WINDOW_MS = 6 * 3600 * 1000  # node_exporter's NodeFilesystemSpaceFillingUp window
# Exceedance probabilities are read off error quantiles at these probabilities.
PROBABILITY_GRID = np.round(np.arange(0.01, 1.0, 0.01), 4)
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
# Grid steps that divide a day, so a daily season is a whole number of steps.
NICE_STEPS_MS = tuple(s * 1000 for s in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240,
                                         300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600))

@dataclass(frozen=True)
class ModelDescription:
    name: str
    reason: str
    parameters: dict[str, float] = field(default_factory=dict)
    observations: int = 0
    residual_std: float = 0.0
    season_length: int = 0  # in steps; 0 when no season is used
    backtest_mae: float = math.nan  # mean absolute error of the model's past forecasts
    backtest_mase: float = math.nan  # the same, scaled by the in-sample seasonal naive error


@dataclass(frozen=True)
class Forecast:
    """Point forecast and bounds for steps 1..horizon; bounds keyed by level in percent.

    error_quantiles (horizon, len(probabilities)) are quantiles of actual minus
    forecast measured on the model's own past forecasts; they make the bounds and
    the exceedance probabilities.
    """

    mean: np.ndarray
    lower: dict[float, np.ndarray]
    upper: dict[float, np.ndarray]
    model: ModelDescription
    probabilities: np.ndarray
    error_quantiles: np.ndarray
    residuals: np.ndarray  # one-step in-sample residuals (n,), 0 where none
    fit: np.ndarray  # the kernel's info vector: pass as refresh= to reuse this fit on new data

    def exceedance(self, threshold: float, rising: bool) -> np.ndarray:
        """Probability (horizon,) that the value at each step is at or beyond the threshold."""
        gaps = threshold - self.mean
        below = np.array([
            np.interp(gap, quantiles, self.probabilities, left=0.0, right=1.0)
            for gap, quantiles in zip(gaps, self.error_quantiles, strict=True)
        ])
        return 1.0 - below if rising else below


@dataclass(frozen=True)
class BatchForecast:
    mean: np.ndarray  # (series, horizon)
    lower: dict[float, np.ndarray]  # level -> (series, horizon)
    upper: dict[float, np.ndarray]
    models: list[str]
    info: np.ndarray  # (series, auto.INFO_SIZE), see auto_kernels


@dataclass(frozen=True)
class SeriesForecast:
    """A Forecast placed in time, for a series given as raw samples."""

    timestamps_ms: np.ndarray
    forecast: Forecast
    step_ms: int
    last_timestamp_ms: int
    last_value: float
    rate_of_counter: bool
    grid_timestamps_ms: np.ndarray
    grid_values: np.ndarray


def check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    for level in levels:
        if not (math.isfinite(level) and 0.0 < level < 100.0):
            raise ValueError(f"interval level {level} is outside (0, 100)")
    return tuple(sorted(set(float(level) for level in levels))) or DEFAULT_LEVELS


def _tails(level: float) -> tuple[float, float]:
    """The error probabilities that bound a central interval of `level` percent."""
    return round(0.5 - level / 200.0, 10), round(0.5 + level / 200.0, 10)


def _probabilities(levels: tuple[float, ...], grid: np.ndarray = PROBABILITY_GRID) -> np.ndarray:
    return np.unique(np.concatenate([grid, [p for level in levels for p in _tails(level)]]))


def _bounds(mean: np.ndarray, quantiles: np.ndarray, probabilities: np.ndarray,
            levels: tuple[float, ...]) -> tuple[dict[float, np.ndarray], dict[float, np.ndarray]]:
    """Lower and upper bounds per level from error quantiles (last axis: probabilities)."""
    lower, upper = {}, {}
    for level in levels:
        low, high = np.searchsorted(probabilities, _tails(level))
        lower[level] = mean + quantiles[..., low]
        upper[level] = mean + quantiles[..., high]
    return lower, upper


def _season_reason(info: np.ndarray, season_length: int, detected: bool) -> str:
    repeatability = info[auto.INFO_REPEATABILITY]
    if season_length < 2:
        return "no season considered"
    if info[auto.INFO_SEASON] >= 2:
        found = "detected" if detected else "given"
        return f"season of {season_length} steps {found}, repeatability {repeatability:.2f}"
    if info[auto.INFO_OBSERVATIONS] < MIN_CYCLES * season_length:
        return f"season of {season_length} steps not used: needs {MIN_CYCLES} cycles of history"
    threshold = auto.repeatability_threshold(season_length)
    return (f"season of {season_length} steps not used: profile repeatability "
            f"{repeatability:.2f} < {threshold:.2f}")


def describe(info: np.ndarray, season_length: int, detected: bool = False) -> ModelDescription:
    """A model description from the kernel's info vector."""
    code = int(info[auto.INFO_MODEL])
    n = int(info[auto.INFO_OBSERVATIONS])
    model = MODELS[code]
    parameters = {field: float(info[INFO[field]]) for field in model.parameters}
    if code < auto.SES:
        reason = f"only {n} points (backtests need {auto.MIN_POINTS}): {model.summary}"
        if code == auto.MEAN:
            reason += "; no significant trend"
        mae = mase = math.nan
    else:
        mae = float(info[auto.INFO_BACKTEST_MAE])
        mase = float(info[auto.INFO_BACKTEST_MASE])
        summary = model.summary
        if code == auto.ENSEMBLE:
            members = member_offsets(info)
            names = [MODELS[int(info[base + auto.MEMBER_CODE])].name for base in members]
            summary = (f"the mean of {', '.join(names)}, weighted by their backtest accuracy "
                       "(the candidates about as good as the best)")
            parameters.update({f"weight_{name}": float(info[base + auto.MEMBER_WEIGHT])
                               for name, base in zip(names, members, strict=True)})
        reason = (f"{summary}: lowest mean absolute error ({mae:.4g}, MASE "
                  f"{mase:.2f}) forecasting from past origins among the candidates; "
                  f"{_season_reason(info, season_length, detected)}")
    season = int(info[auto.INFO_SEASON])
    return ModelDescription(
        name=model.name, reason=reason, parameters=parameters, observations=n,
        residual_std=float(info[auto.INFO_RESIDUAL_STD]), season_length=season,
        backtest_mae=mae, backtest_mase=mase,
    )


def detect_season_length(values: np.ndarray, candidates: Sequence[int] = ()) -> tuple[int, bool]:
    """The first candidate period whose profile repeats; with no candidates, the lag of
    the highest autocorrelation between 4 and a third of the history. (0, False) if none."""
    for m in candidates:
        if m >= 2 and len(values) >= MIN_CYCLES * m:
            _, repeatability = seasonal_profile(values, m)
            if repeatability >= auto.repeatability_threshold(m):
                return m, True
    if candidates or len(values) < 24:
        return 0, False
    lag, _ = dominant_period(values, 4, len(values) // 3)
    return (int(lag), True) if lag >= 4 else (0, False)


def forecast_values(
    values: np.ndarray,
    horizon: int,
    season_length: int | None = None,
    levels: Sequence[float] = DEFAULT_LEVELS,
    linear_window: int | None = None,
    refresh: np.ndarray | None = None,
) -> Forecast:
    """Forecast equally spaced values `horizon` steps ahead.

    values : (n,) float64, n >= 1; NaN values are gaps and are interpolated.
    season_length : steps per season (e.g. 288 for daily at 5 minutes); None detects it
        from the data, 0 forbids a season. A season is used only if its profile repeats.
    levels : interval levels in percent.
    linear_window : the predict_linear candidate's window in steps (default: all history).
    refresh : the `fit` of an earlier Forecast of the same series: keep its model and
        parameters and only run them over the new data (several times cheaper).
    Returns the point forecast (horizon,), bounds (horizon,) per level and the model.
    """
    if horizon < 1:
        raise ValueError("horizon must be at least one step")
    levels = check_levels(levels)
    y = np.ascontiguousarray(values, dtype=np.float64)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError("values must be a non-empty 1-D array")
    if not np.isfinite(y).any():
        raise ValueError("no finite values to forecast from")
    y = np.where(np.isinf(y), np.nan, y)
    detected = season_length is None
    if season_length is None:
        season_length, _ = detect_season_length(auto.interpolate_gaps(y))
    probabilities = _probabilities(levels)
    mean = np.empty(horizon)
    quantiles = np.empty((horizon, len(probabilities)))
    info = np.empty(auto.INFO_SIZE)
    residuals = np.empty(len(y))
    fixed = np.full(auto.INFO_SIZE, -1.0) if refresh is None else refresh
    auto.auto_forecast(y, int(season_length), int(horizon), probabilities,
                       int(linear_window or len(y)), fixed, mean, quantiles, info, residuals)
    lower, upper = _bounds(mean, quantiles, probabilities, levels)
    return Forecast(mean, lower, upper, describe(info, int(season_length), detected),
                    probabilities, quantiles, residuals, info)


def forecast_batch(
    values: np.ndarray, horizon: int, season_length: int = 0,
    levels: Sequence[float] = DEFAULT_LEVELS, linear_window: int | None = None,
) -> BatchForecast:
    """forecast_values for every row of values (series, n) at once, over all cores."""
    levels = check_levels(levels)
    y = np.ascontiguousarray(values, dtype=np.float64)
    probabilities = _probabilities(levels, grid=np.empty(0))  # the bounds only
    count = y.shape[0]
    mean = np.empty((count, horizon))
    quantiles = np.empty((count, horizon, len(probabilities)))
    info = np.empty((count, auto.INFO_SIZE))
    auto.auto_forecast_batch(y, int(season_length), int(horizon), probabilities,
                             int(linear_window or y.shape[1]), mean, quantiles, info)
    lower, upper = _bounds(mean, quantiles, probabilities, levels)
    return BatchForecast(mean, lower, upper,
                         [MODELS[int(code)].name for code in info[:, auto.INFO_MODEL]], info)


def grid_step_ms(native_ms: int, horizon_ms: int, span_ms: int) -> int:
    """A step that keeps the horizon within MAX_HORIZON_POINTS and the history within
    MAX_HISTORY_POINTS, rounded up to a step that divides a day."""
    wanted = max(native_ms, math.ceil(horizon_ms / MAX_HORIZON_POINTS),
                 math.ceil(span_ms / MAX_HISTORY_POINTS))
    for nice in NICE_STEPS_MS:
        if nice >= wanted:
            return nice
    return wanted


def forecast_samples(
    timestamps_ms: np.ndarray,
    values: np.ndarray,
    horizon_ms: int,
    levels: Sequence[float] = DEFAULT_LEVELS,
    is_counter: bool = False,
    refresh: np.ndarray | None = None,
    step_ms: int | None = None,
) -> SeriesForecast:
    """Forecast a series given as raw samples (sorted times in ms, float values).

    NaN samples are gaps. Counters are forecast as their per-second rate. Samples go
    on a regular grid of step_ms (by default one sized for the horizon, see
    grid_step_ms; the newest MAX_HISTORY_POINTS grid points are used); weekly, then
    daily seasons are tried. Nothing is clipped: physical limits belong to the answer
    (infracast.server.answers), which needs the unclipped distribution for probabilities.
    """
    finite = np.isfinite(values)
    timestamps_ms, values = timestamps_ms[finite], values[finite]
    if is_counter:
        timestamps_ms, values = counter_rate(timestamps_ms, values)
    if len(values) == 0:
        raise ValueError("the series has no usable samples yet")
    span_ms = int(timestamps_ms[-1] - timestamps_ms[0])
    if step_ms is None:
        step_ms = grid_step_ms(native_step_ms(timestamps_ms), horizon_ms, span_ms)
    grid = to_grid(timestamps_ms, values, step_ms, MAX_HISTORY_POINTS)
    horizon = max(1, math.ceil(horizon_ms / step_ms))
    # Weekly, then daily; a period that does not fit the history is reported, not tried.
    seasons = [period // step_ms for period in (WEEK_MS, DAY_MS) if period % step_ms == 0]
    testable = [m for m in seasons if len(grid.values) >= MIN_CYCLES * m]
    season_length, _ = detect_season_length(grid.values, testable) if testable else (0, False)
    if not season_length and seasons:
        season_length = seasons[-1]  # the answer then says why the daily season was not used
    window = max(2, PREDICT_LINEAR_WINDOW_MS // step_ms)
    forecast = forecast_values(grid.values, horizon, season_length, levels, window, refresh)
    last = int(grid.timestamps_ms[-1])
    future = last + step_ms * np.arange(1, horizon + 1, dtype=np.int64)
    return SeriesForecast(
        timestamps_ms=future, forecast=forecast, step_ms=step_ms, last_timestamp_ms=last,
        last_value=float(values[-1]), rate_of_counter=is_counter,
        grid_timestamps_ms=grid.timestamps_ms, grid_values=grid.values,
    )

