"""Automatic forecasting of one series, and of many at once, entirely in numba.

For one series y (n,) equally spaced and finite:
  1. short histories (< MIN_POINTS) get a line, their mean or the last value;
  2. if a season length m is given and the profile of period m repeats (see
     season_kernels), the profile is removed and added back to the forecast;
  3. candidate models are fitted and each forecasts from many past origins; the
     one with the smallest mean absolute error at steps 1, H/4, H/2 and H wins;
  4. its own k-step errors from those origins give the interval bounds (empirical
     quantiles per step, of errors divided by the local error scale at their origin and
     scaled back by today's), so intervals are as wide as the model has actually
     been wrong, whatever the shape of the errors, at the series' current volatility.
Results go into caller-provided arrays so a prange over series allocates nothing shared.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from infracast.server.forecast import ets_kernels as ets
from infracast.server.forecast.backtest_kernels import (
    MIN_ORIGINS,
    extend_and_envelope,
    panel_error_quantiles,
    panel_error_scales,
    panel_forecast,
    panel_mean_abs_error,
    rolling_line,
)
from infracast.server.forecast.baseline_kernels import robust_slope
from infracast.server.forecast.fit_layout import (
    CANDIDATES,
    DAMPED,
    DRIFT,
    ENSEMBLE,
    ENSEMBLE_SIZE,
    HOLT_WINTERS,
    INFO_ALPHA,
    INFO_BACKTEST_MAE,
    INFO_BACKTEST_MASE,
    INFO_BETA,
    INFO_GAMMA,
    INFO_LEVEL,
    INFO_MEMBER_PARAMS,
    INFO_MEMBERS,
    INFO_MODEL,
    INFO_OBSERVATIONS,
    INFO_ORIGINS,
    INFO_PHI,
    INFO_REPEATABILITY,
    INFO_RESIDUAL_STD,
    INFO_SEASON,
    INFO_SIZE,
    INFO_TREND,
    LINE,
    MEAN,
    MEMBER_ALPHA,
    MEMBER_CODE,
    MEMBER_FIELDS,
    MEMBER_WEIGHT,
    NAIVE,
    PREDICT_LINEAR,
    ROBUST_SES,
    SEASONAL_NAIVE,
    SES,
    THETA,
)
from infracast.server.forecast.jit import kernel, parallel_kernel
from infracast.server.forecast.normal_kernels import normal_quantile, student_t_quantile
from infracast.server.forecast.season_kernels import (
    MIN_CYCLES,
    seasonal_component,
    seasonal_profile,
    smoothing_width,
)

COMBINE_WITHIN = 1.25  # backtest error relative to the best candidate's
# Holt-Winters learns each seasonal phase from one observation per cycle: with long
# periods its seasonal state is mostly noise (R's ets and statsforecast refuse m > 24
# too). Long periods are handled by the decomposition (a profile over all cycles).
MAX_HOLT_WINTERS_PERIOD = 24

MIN_POINTS = 24
# Lag-1 autocorrelation of independent residuals is about N(0, 1/n): above this many
# standard errors (5 % one-sided), a short history is taken to wander.
AUTOCORRELATED = 1.645
ONE = np.ones(1)
SELECTION_ORIGINS = 400
CALIBRATION_ORIGINS = 2000


@kernel
def interpolate_gaps(y):
    """NaNs replaced by linear interpolation (ends by the nearest value); all-NaN gives zeros."""
    n = len(y)
    out = y.copy()
    last = -1
    for t in range(n):
        if np.isnan(y[t]):
            continue
        if last == -1 and t > 0:
            out[:t] = y[t]
        elif last >= 0 and t - last > 1:
            for i in range(last + 1, t):
                out[i] = y[last] + (y[t] - y[last]) * (i - last) / (t - last)
        last = t
    if last == -1:
        out[:] = 0.0
    elif last < n - 1:
        out[last + 1:] = y[last]
    return out


@kernel
def repeatability_threshold(m):
    """Alternate-cycle profile correlation that noise alone exceeds with ~0.1 % chance:
    3 / sqrt(independent phases of the smoothed profile), at least 0.3."""
    return max(0.3, 3.0 / np.sqrt(m / smoothing_width(m)))


@kernel
def naive_scale(y, m):
    """In-sample mean absolute error of the seasonal naive (naive when m < 2): the MASE scale."""
    lag = m if (m >= 2 and len(y) > m) else 1
    if len(y) <= lag:
        return 1.0
    total = 0.0
    for t in range(lag, len(y)):
        total += abs(y[t] - y[t - lag])
    scale = total / (len(y) - lag)
    return scale if scale > 0 else 1.0


@kernel
def _short_history(y, horizon, probs, out_mean, out_quantiles, info):
    """Fewer than MIN_POINTS points: a significant line, else the mean, else the last value."""
    n = len(y)
    if n < 3:
        spread = abs(y[n - 1] - y[0])
        out_mean[:] = y[n - 1]
        info[INFO_MODEL] = NAIVE
        info[INFO_RESIDUAL_STD] = spread
        for j in range(len(probs)):
            out_quantiles[:, j] = spread * normal_quantile(probs[j])
        return
    t_mean = (n - 1) / 2.0
    y_mean = y.mean()
    sxx = 0.0
    sxy = 0.0
    for i in range(n):
        sxx += (i - t_mean) ** 2
        sxy += (i - t_mean) * (y[i] - y_mean)
    slope = sxy / sxx
    sse = 0.0
    for i in range(n):
        sse += (y[i] - y_mean - slope * (i - t_mean)) ** 2
    sigma = np.sqrt(sse / (n - 2))
    significant = abs(slope) * np.sqrt(sxx) / sigma >= 2.0 if sigma > 0.0 else slope != 0.0
    if significant:
        info[INFO_MODEL] = LINE
        info[INFO_TREND] = slope
        info[INFO_LEVEL] = y_mean + slope * (n - 1 - t_mean)
        info[INFO_RESIDUAL_STD] = sigma
        for k in range(1, horizon + 1):
            future = n - 1 + k
            out_mean[k - 1] = y_mean + slope * (future - t_mean)
            spread = sigma * np.sqrt(1.0 + 1.0 / n + (future - t_mean) ** 2 / sxx)
            for j in range(len(probs)):
                out_quantiles[k - 1, j] = spread * student_t_quantile(probs[j], n - 2)
    else:
        deviation = np.std(y) * np.sqrt(n / (n - 1.0))
        info[INFO_MODEL] = MEAN
        info[INFO_LEVEL] = y_mean
        info[INFO_RESIDUAL_STD] = deviation
        out_mean[:] = y_mean
        for j in range(len(probs)):
            out_quantiles[:, j] = (deviation * np.sqrt(1.0 + 1.0 / n)
                                   * student_t_quantile(probs[j], n - 1))
    _cover_a_wandering_series(y, significant, slope, probs, out_mean, out_quantiles)


@kernel
def _cover_a_wandering_series(y, with_drift, drift, probs, out_mean, out_quantiles):
    """Widen a short history's bounds to also cover a random walk from the last value
    when the residuals around the line (or mean) are significantly autocorrelated.

    The line's and the mean's intervals assume independent residuals; a series that
    wanders (a random walk, a slow oscillation) leaves runs of residuals of one sign,
    and its next values stray from the fitted line as far as a walk would. The bounds
    become the union of both intervals, so either description being right keeps coverage.
    """
    n = len(y)
    fitted_slope = drift if with_drift else 0.0
    t_mean = (n - 1) / 2.0
    y_mean = y.mean()
    lagged = 0.0
    total = 0.0
    previous = 0.0
    for i in range(n):
        residual = y[i] - y_mean - fitted_slope * (i - t_mean)
        total += residual * residual
        if i > 0:
            lagged += residual * previous
        previous = residual
    if not (total > 0.0 and lagged / total > AUTOCORRELATED / np.sqrt(n)):
        return
    mean_step = (y[n - 1] - y[0]) / (n - 1) if with_drift else 0.0
    squares = 0.0
    for i in range(1, n):
        squares += (y[i] - y[i - 1] - mean_step) ** 2
    step_sd = np.sqrt(squares / (n - 2))
    for k in range(1, len(out_mean) + 1):
        centre = y[n - 1] + mean_step * k - out_mean[k - 1]
        # A walk's k steps, plus k times the error of the drift (the mean of n - 1 steps).
        spread = step_sd * np.sqrt(k + (k * k / (n - 1.0) if with_drift else 0.0))
        for j in range(len(probs)):
            walk = centre + spread * student_t_quantile(probs[j], n - 2)
            if probs[j] < 0.5:
                out_quantiles[k - 1, j] = min(out_quantiles[k - 1, j], walk)
            elif probs[j] > 0.5:
                out_quantiles[k - 1, j] = max(out_quantiles[k - 1, j], walk)


@kernel
def combination_weights(scores):
    """Weights inversely proportional to each member's backtest error (Bates and Granger),
    equal when every error is zero."""
    inverse = np.empty(len(scores))
    for i in range(len(scores)):
        inverse[i] = 1.0 / scores[i] if scores[i] > 0 else np.inf
    if np.isinf(inverse).any():
        return np.where(np.isinf(inverse), 1.0, 0.0) / np.isinf(inverse).sum()
    return inverse / inverse.sum()


@kernel
def _candidate(code, y, x, m, window, fixed):
    """Fit one candidate (or, when fixed holds (alpha, beta, gamma, phi), reuse those
    and only re-run the smoother); return its trajectory and parameters.

    Returns (target, levels, trends, seasonals, season0, period, phi, alpha, beta, gamma, residuals).
    x is y with the seasonal profile removed (x is y when there is none); the
    ETS-family candidates model x, the seasonal ones model y itself.
    """
    n = len(y)
    if code == SEASONAL_NAIVE:
        zeros = np.zeros(n)
        residuals = np.zeros(n)
        for t in range(m, n):
            residuals[t] = y[t] - y[t - m]
        return y, zeros, zeros, y, y[:m].copy(), m, 1.0, 0.0, 0.0, 0.0, residuals
    if code == ROBUST_SES:
        level0 = x[0]
        alpha = fixed[0] if len(fixed) == 4 else ets.fit_robust_alpha(x, level0)
        levels, residuals = ets.robust_filter(x, alpha, level0)
        zeros = np.zeros(n)
        return x, levels, zeros, zeros, np.zeros(1), 1, 1.0, alpha, 0.0, 0.0, residuals
    if code == PREDICT_LINEAR:
        fitted, slopes = rolling_line(y, window)
        residuals = np.zeros(n)
        for t in range(1, n):
            residuals[t] = y[t] - (fitted[t - 1] + slopes[t - 1])
        return y, fitted, slopes, np.zeros(n), np.zeros(1), 1, 1.0, 0.0, 0.0, 0.0, residuals
    target = y if code == HOLT_WINTERS else x
    period = m if code == HOLT_WINTERS else 1
    kind = ets.SES
    drift = 0.0
    if code == DAMPED:
        kind = ets.DAMPED
    elif code == HOLT_WINTERS:
        kind = ets.SEASONAL
    elif code == THETA:
        kind = ets.THETA
        t_mean = (n - 1) / 2.0
        sxx = 0.0
        sxy = 0.0
        x_mean = target.mean()
        for i in range(n):
            sxx += (i - t_mean) ** 2
            sxy += (i - t_mean) * (target[i] - x_mean)
        drift = 0.5 * sxy / sxx
    elif code == DRIFT:
        kind = ets.THETA
        drift = robust_slope(target, max(1, n // 10))
    if len(fixed) == 4:
        trended = kind == ets.DAMPED
        level, trend, season0 = ets.initial_states(target, period, trended)
        if kind == ets.THETA:
            trend = drift
        alpha, beta, gamma, phi = fixed[0], fixed[1], fixed[2], fixed[3]
    else:
        alpha, beta, gamma, phi, level, trend, season0 = ets.ets_fit(kind, target, period, drift)
    levels, trends, seasonals, residuals = ets.ets_filter(
        target, period, alpha, beta, gamma, phi, level, trend, season0)
    return target, levels, trends, seasonals, season0, period, phi, alpha, beta, gamma, residuals


@kernel
def auto_forecast(y, season_length, horizon, probs, window, fixed, out_mean, out_quantiles, info,
                  out_residuals):
    """Forecast y (n,) `horizon` steps ahead into out_mean (horizon,) and the error
    quantiles at probs (p,) into out_quantiles (horizon, p); describe the model in info
    and write its one-step residuals into out_residuals (n,) (zeros for short histories).

    season_length < 2 means no season; window is predict_linear's window in steps.
    fixed (INFO_SIZE,) is the info of an earlier fit to refresh cheaply (same model and
    parameters, new data: no candidate search) or has fixed[INFO_MODEL] = -1 to choose anew.
    """
    info[:] = 0.0
    out_residuals[:] = 0.0
    y = interpolate_gaps(y)
    n = len(y)
    info[INFO_OBSERVATIONS] = n
    if n < MIN_POINTS:
        _short_history(y, horizon, probs, out_mean, out_quantiles, info)
        return
    m = season_length if season_length >= 2 else 0
    seasonal = False
    profile = np.zeros(1)
    if m >= 2 and n >= MIN_CYCLES * m:
        profile, repeatability = seasonal_profile(y, m)
        info[INFO_REPEATABILITY] = repeatability
        seasonal = repeatability >= repeatability_threshold(m)
    x = y - seasonal_component(profile, 0, n) if seasonal else y
    if seasonal:
        info[INFO_SEASON] = m
    warmup = min(n // 2, max(2 * m, 10) if seasonal else 10)
    first_origin = max(warmup, n - SELECTION_ORIGINS - horizon)
    # Judge at the requested horizon or, when the history is too short for that, at the
    # longest step that still has MIN_ORIGINS origins, so trends are judged far ahead too.
    judged = max(1, min(horizon, n - first_origin - MIN_ORIGINS))
    steps = np.array([1, max(1, judged // 4), max(1, judged // 2), judged])
    component = seasonal_component(profile, 0, n + horizon) if seasonal else np.zeros(n + horizon)

    # Every candidate's trajectory goes into a panel so single models and their
    # average are backtested the same way.
    levels = np.zeros((CANDIDATES, n))
    trends = np.zeros((CANDIDATES, n))
    seasonals = np.zeros((CANDIDATES, n))
    season0 = np.zeros((CANDIDATES, max(m, 1)))
    periods = np.ones(CANDIDATES, dtype=np.int64)
    phis = np.ones(CANDIDATES)
    deseasonalised = np.zeros(CANDIDATES, dtype=np.bool_)
    parameters = np.zeros((CANDIDATES, 4))
    residuals = np.zeros((CANDIDATES, n))
    scores = np.full(CANDIDATES, np.inf)
    refresh = fixed[INFO_MODEL] >= SES and (fixed[INFO_SEASON] >= 2) == seasonal
    wanted = np.zeros(CANDIDATES, dtype=np.bool_)
    given = np.zeros((CANDIDATES, 4))
    if refresh:
        for j in range(int(fixed[INFO_MEMBERS])):
            base = INFO_MEMBER_PARAMS + MEMBER_FIELDS * j
            row = int(fixed[base + MEMBER_CODE]) - SES
            wanted[row] = True
            given[row] = fixed[base + MEMBER_ALPHA:base + MEMBER_WEIGHT]
    for code in range(SES, SES + CANDIDATES):
        row = code - SES
        if (code in (HOLT_WINTERS, SEASONAL_NAIVE)) and not seasonal:
            continue
        if code == HOLT_WINTERS and m > MAX_HOLT_WINTERS_PERIOD:
            continue
        if refresh and not wanted[row]:
            continue
        fitted = _candidate(code, y, x, m, window, given[row] if refresh else np.zeros(0))
        period = fitted[5]
        levels[row], trends[row], seasonals[row] = fitted[1], fitted[2], fitted[3]
        season0[row, :period] = fitted[4][:period]
        periods[row] = period
        phis[row] = fitted[6]
        deseasonalised[row] = seasonal and code not in (HOLT_WINTERS, SEASONAL_NAIVE)
        parameters[row, 0] = fitted[7]
        parameters[row, 1] = fitted[8]
        parameters[row, 2] = fitted[9]
        parameters[row, 3] = fitted[6]
        residuals[row] = fitted[10]
        scores[row] = panel_mean_abs_error(y, levels, trends, seasonals, season0, periods, phis,
                                           deseasonalised, component, np.array([row]), ONE,
                                           steps, first_origin)

    # The model: the best candidate, or the mean of the best few when that backtests better.
    order = np.argsort(scores)
    finite = 0
    for row in order:
        if np.isfinite(scores[row]):
            finite += 1
    members = order[:1]
    weights = ONE
    best_score = scores[order[0]]
    if refresh:
        members = np.flatnonzero(wanted)
        weights = np.empty(len(members))
        for j in range(len(members)):
            weights[j] = fixed[INFO_MEMBER_PARAMS + MEMBER_FIELDS * j + MEMBER_WEIGHT]
        best_score = panel_mean_abs_error(y, levels, trends, seasonals, season0, periods, phis,
                                          deseasonalised, component, members, weights, steps,
                                          first_origin)
    elif judged >= horizon:
        # Combine the candidates about as good as the best (forecast combinations are
        # more accurate than any one choice), but never one far worse: averaging a
        # level-only model into a real trend (a filling disk) would dilute the trend.
        # Only when the backtest reached the horizon asked about: beyond it, models that
        # agree so far can part ways (a damped and an undamped trend), and averaging
        # them would be a guess.
        close = 0
        for row in order[:min(ENSEMBLE_SIZE, finite)]:
            if scores[row] <= COMBINE_WITHIN * best_score:
                close += 1
        if close >= 2:
            members = order[:close]
            weights = combination_weights(scores[members])
            best_score = panel_mean_abs_error(y, levels, trends, seasonals, season0, periods, phis,
                                              deseasonalised, component, members, weights, steps,
                                              first_origin)
    lead = members[0]
    info[INFO_MODEL] = ENSEMBLE if len(members) > 1 else lead + SES
    info[INFO_MEMBERS] = len(members)
    for j in range(len(members)):
        base = INFO_MEMBER_PARAMS + MEMBER_FIELDS * j
        info[base + MEMBER_CODE] = members[j] + SES
        info[base + MEMBER_ALPHA:base + MEMBER_WEIGHT] = parameters[members[j]]  # alpha, beta, gamma, phi
        info[base + MEMBER_WEIGHT] = weights[j]
    info[INFO_ALPHA], info[INFO_BETA] = parameters[lead, 0], parameters[lead, 1]
    info[INFO_GAMMA], info[INFO_PHI] = parameters[lead, 2], parameters[lead, 3]
    info[INFO_TREND] = trends[lead, n - 1]
    info[INFO_LEVEL] = levels[lead, n - 1]
    info[INFO_RESIDUAL_STD] = np.sqrt((residuals[lead, warmup:] ** 2).mean())
    out_residuals[warmup:] = residuals[lead, warmup:]
    info[INFO_BACKTEST_MAE] = best_score
    info[INFO_BACKTEST_MASE] = best_score / naive_scale(y, m)
    for k in range(1, horizon + 1):
        out_mean[k - 1] = panel_forecast(levels, trends, seasonals, season0, periods, phis,
                                         deseasonalised, component, members, weights, n - 1, k)
    calibration_start = max(warmup, n - CALIBRATION_ORIGINS - horizon)
    scales = panel_error_scales(y, levels, trends, seasonals, season0, periods, phis,
                                deseasonalised, component, members, weights, calibration_start)
    quantiles, counts, medians = panel_error_quantiles(
        y, levels, trends, seasonals, season0, periods, phis, deseasonalised, component, members,
        weights, horizon, calibration_start, probs, scales)
    info[INFO_ORIGINS] = counts[0]
    if lead + SES == SEASONAL_NAIVE:
        growth = np.empty(horizon)
        for k in range(horizon):
            growth[k] = float(k // m + 1)
    else:
        growth = ets.ets_variance_factors(max(parameters[lead, 0], 0.05), parameters[lead, 1],
                                          parameters[lead, 3], horizon)
    if np.isnan(quantiles[0, 0]):
        # Too few origins even for one step: Student t bounds from the one-step residuals.
        sigma = info[INFO_RESIDUAL_STD]
        for j in range(len(probs)):
            quantiles[0, j] = sigma * student_t_quantile(probs[j], max(n - warmup - 1, 1))
        medians[0] = 0.0
    out_quantiles[:, :] = extend_and_envelope(quantiles, medians, probs, growth)


@parallel_kernel
def auto_forecast_batch(values, season_length, horizon, probs, window, out_mean, out_quantiles, info):
    """auto_forecast for every row of values (s, n), spread over cores.

    out_mean (s, horizon), out_quantiles (s, horizon, p), info (s, INFO_SIZE).
    """
    for i in prange(values.shape[0]):
        residuals = np.empty(values.shape[1])
        choose = np.full(INFO_SIZE, -1.0)
        auto_forecast(values[i], season_length, horizon, probs, window, choose,
                      out_mean[i], out_quantiles[i], info[i], residuals)
