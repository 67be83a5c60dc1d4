"""A forecast an operator can read: tiers joined, limits applied, the distribution kept.

The engine forecasts one regular grid. An outlook joins the forecasts of a plan's
tiers (see resolution.py) into one sequence of points whose spacing grows with the
lead time, clips the point forecast and the bounds to the metric's physical limits
for display, and keeps the unclipped predictive distribution (point forecast plus the
model's own error quantiles) so probabilities are read where the model put them: a
disk forecast to go below 0 bytes has a probability near 1 of reaching 0, not the
0.5 a clipped median would say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from infracast.common.durations import format_duration
from infracast.server.answers.limits import Limits
from infracast.server.answers.noise import transient_noise_sd
from infracast.server.answers.regime import current_history
from infracast.server.answers.resolution import Plan, plan
from infracast.server.forecast.crossing_kernels import exceedance as point_exceedance
from infracast.server.forecast.engine import (
    DEFAULT_LEVELS,
    ModelDescription,
    SeriesForecast,
    forecast_samples,
)

# fit(step_ms, horizon_ms) -> the engine's (unclipped) forecast of the series on that grid
UNLIMITED = Limits()
TierFit = Callable[[int, int], SeriesForecast]


@dataclass(frozen=True)
class TierModel:
    step_ms: int
    from_ms: int  # lead time this tier starts answering at (exclusive)
    until_ms: int
    model: ModelDescription


@dataclass(frozen=True)
class Outlook:
    """Forecast points ahead of the last sample, oldest first (k points)."""

    timestamps_ms: np.ndarray  # (k,) int64
    mean: np.ndarray  # (k,) clipped to the limits
    lower: dict[float, np.ndarray]  # level -> (k,), clipped
    upper: dict[float, np.ndarray]
    raw_mean: np.ndarray  # (k,) unclipped: what probabilities and crossings are read from
    raw_lower: dict[float, np.ndarray]
    raw_upper: dict[float, np.ndarray]
    probabilities: np.ndarray  # (p,)
    error_quantiles: np.ndarray  # (k, p): quantiles of actual minus forecast at each point
    limits: Limits
    limits_applied: bool  # some point or bound was moved inside the limits
    plan: Plan
    tiers: tuple[TierModel, ...]
    last_timestamp_ms: int
    last_value: float  # for counters the last per-second rate
    rate_of_counter: bool
    history_note: str = ""  # what of the history was used, when not all of it
    noise_sd: float = 0.0  # sd of the series' independent per-sample noise (see noise.py)

    @property
    def model(self) -> ModelDescription:
        """The nearest tier's model, with a reason that covers every tier and the reach."""
        first = self.tiers[0].model
        return ModelDescription(
            name=first.name, reason=first.reason + self._reason_suffix(),
            parameters=first.parameters, observations=first.observations,
            residual_std=first.residual_std, season_length=first.season_length,
            backtest_mae=first.backtest_mae, backtest_mase=first.backtest_mase)

    @property
    def step_ms(self) -> int:
        return self.tiers[0].step_ms

    def model_at(self, lead_ms: int) -> TierModel:
        """The tier answering for a lead time."""
        for tier in self.tiers:
            if lead_ms <= tier.until_ms:
                return tier
        return self.tiers[-1]

    def exceedance(self, threshold: float, rising: bool) -> np.ndarray:
        """Probability (k,) that the value at each point is at or beyond the threshold,
        from the unclipped distribution."""
        return point_exceedance(threshold - self.raw_mean, np.ascontiguousarray(self.error_quantiles),
                                self.probabilities, rising)

    def _reason_suffix(self) -> str:
        parts = [self.history_note] if self.history_note else []
        if len(self.tiers) > 1:
            further = "; ".join(
                f"beyond {format_duration(t.from_ms / 1000)}: {format_duration(t.step_ms / 1000)} steps, "
                f"{t.model.name}" for t in self.tiers[1:])
            parts.append(f"near steps {format_duration(self.tiers[0].step_ms / 1000)} ({further})")
        if self.plan.reach_limited:
            parts.append(
                f"looks {format_duration(self.plan.searched_ms / 1000)} ahead, not the "
                f"{format_duration(self.plan.horizon_ms / 1000)} asked: "
                f"{format_duration(self.plan.span_ms / 1000)} of history lets a forecast see at most "
                f"{format_duration(self.plan.reach_ms / 1000)}")
        if self.limits_applied:
            parts.append(f"kept within physical limits ({self.limits.why})")
        return "".join(f"; {part}" for part in parts)


def build_outlook(plan: Plan, fit: TierFit, limits: Limits, history_note: str = "",
                  noise_sd: float = 0.0) -> Outlook:
    """Run each tier of the plan and join them into one outlook."""
    times, means, quantiles, models = [], [], [], []
    lows: dict[float, list[np.ndarray]] = {}
    highs: dict[float, list[np.ndarray]] = {}
    first_result: SeriesForecast | None = None
    probabilities = None
    covered = 0
    for tier in plan.tiers:
        result = fit(tier.step_ms, tier.until_ms)
        first_result = first_result or result
        leads = result.timestamps_ms - first_result.last_timestamp_ms
        take = (leads > covered) & (leads <= tier.until_ms)
        if not take.any():
            continue
        forecast = result.forecast
        if probabilities is None:
            probabilities = forecast.probabilities
        times.append(result.timestamps_ms[take])
        means.append(forecast.mean[take])
        quantiles.append(forecast.error_quantiles[take])
        for level in forecast.lower:
            lows.setdefault(level, []).append(forecast.lower[level][take])
            highs.setdefault(level, []).append(forecast.upper[level][take])
        models.append(TierModel(tier.step_ms, covered, tier.until_ms, forecast.model))
        covered = tier.until_ms
    assert first_result is not None and probabilities is not None
    raw_mean = np.concatenate(means)
    raw_lower = {level: np.concatenate(parts) for level, parts in lows.items()}
    raw_upper = {level: np.concatenate(parts) for level, parts in highs.items()}
    low, high = limits.lower, limits.upper
    mean = np.clip(raw_mean, low, high)
    lower = {level: np.clip(bound, low, high) for level, bound in raw_lower.items()}
    upper = {level: np.clip(bound, low, high) for level, bound in raw_upper.items()}
    applied = bool(limits.bounded and (
        (mean != raw_mean).any()
        or any((lower[lv] != raw_lower[lv]).any() or (upper[lv] != raw_upper[lv]).any()
               for lv in lower)))
    return Outlook(
        timestamps_ms=np.concatenate(times), mean=mean, lower=lower, upper=upper,
        raw_mean=raw_mean, raw_lower=raw_lower, raw_upper=raw_upper,
        probabilities=probabilities, error_quantiles=np.concatenate(quantiles),
        limits=limits, limits_applied=applied, plan=plan, tiers=tuple(models),
        last_timestamp_ms=first_result.last_timestamp_ms, last_value=first_result.last_value,
        rate_of_counter=first_result.rate_of_counter, history_note=history_note, noise_sd=noise_sd)



def outlook_of_samples(
    timestamps_ms: np.ndarray, values: np.ndarray, horizon_ms: int,
    levels: tuple[float, ...] = DEFAULT_LEVELS, limits: Limits = UNLIMITED, is_counter: bool = False,
) -> Outlook:
    """An outlook straight from raw samples, without a server's caches (tests, benchmarks).

    timestamps_ms sorted; at least MIN_SAMPLES usable samples (counters: rates)."""
    history = current_history(timestamps_ms, values, is_counter)

    def fit(step_ms: int, until_ms: int) -> SeriesForecast:
        return forecast_samples(history.timestamps_ms, history.values, until_ms, levels, is_counter,
                                None, step_ms)

    return build_outlook(plan(history.usable_times_ms, horizon_ms), fit, limits, history.note,
                         transient_noise_sd(history.usable_values))
