"""Exponential smoothing with additive errors: level, optional damped trend, optional season.

Error-correction form, one step at a time (s_t is the seasonal term of phase t mod m):
    forecast  f_t = l_{t-1} + phi * b_{t-1} + s_{t-m}
    error     e_t = y_t - f_t
    level     l_t = l_{t-1} + phi * b_{t-1} + alpha * e_t
    trend     b_t = phi * b_{t-1} + beta * e_t
    season    s_t = s_{t-m} + gamma * e_t
m = 1 with gamma = 0 switches the season off; beta = 0 with b_0 = 0 switches the
trend off; beta = 0 with b_0 != 0 and phi = 1 is simple smoothing with a fixed
drift (the Theta method's form). Parameters are fitted by squared one-step
error, which for additive Gaussian errors is maximum likelihood.
"""

from __future__ import annotations

import numpy as np

from infracast.server.forecast.jit import kernel

# Model kinds the fitter knows (ints, so kernels never see strings).
SES = 0  # level only
DAMPED = 1  # level + damped trend
THETA = 2  # level + fixed drift (half the least-squares slope)
SEASONAL = 3  # level + season (Holt-Winters without trend)
DAMPED_SEASONAL = 4  # level + damped trend + season

PHI_MIN = 0.8
PHI_MAX = 0.995


@kernel
def initial_states(y, m, with_trend):
    """Starting level, trend and season (m,) from the first seasons of y (n,)."""
    n = len(y)
    season = np.zeros(max(m, 1))
    if m > 1 and n >= 2 * m:
        cycles = min(n // m, 4)
        for c in range(cycles):
            mean = y[c * m:(c + 1) * m].mean()
            for j in range(m):
                season[j] += (y[c * m + j] - mean) / cycles
        season -= season.mean()
        level = y[:m].mean()
        trend = (y[m:2 * m].mean() - y[:m].mean()) / m if with_trend else 0.0
        # The level estimate sits mid-season: move it back to time 0.
        level -= trend * (m - 1) / 2.0
        return level, trend, season
    span = min(n - 1, 10)
    level = y[0]
    trend = (y[span] - y[0]) / span if (with_trend and span > 0) else 0.0
    return level, trend, season


@kernel
def ets_filter(y, m, alpha, beta, gamma, phi, level, trend, season0):
    """Run the smoother; return per-time level (n,), trend (n,), seasonal term (n,) and
    one-step residuals (n,), each after observing y[t]."""
    n = len(y)
    levels = np.empty(n)
    trends = np.empty(n)
    seasonals = np.empty(n)
    residuals = np.empty(n)
    season = season0.copy()
    for t in range(n):
        j = t % m
        predicted = level + phi * trend + season[j]
        error = y[t] - predicted
        residuals[t] = error
        level = level + phi * trend + alpha * error
        trend = phi * trend + beta * error
        season[j] += gamma * error
        levels[t] = level
        trends[t] = trend
        seasonals[t] = season[j]
    return levels, trends, seasonals, residuals


@kernel
def damped_sum(phi, k):
    """phi + phi^2 + ... + phi^k."""
    if phi == 1.0:
        return float(k)
    return phi * (1.0 - phi ** k) / (1.0 - phi)


@kernel
def seasonal_at(seasonals, season0, m, t, k):
    """The seasonal term for time t + k known at time t (latest update of that phase)."""
    if m == 1:
        return 0.0
    back = (m - k % m) % m
    tau = t - back
    if tau >= 0:
        return seasonals[tau]
    return season0[(t + k) % m]


@kernel
def _params(kind, x):
    """Map the optimiser's box [0, 1]^4 to (alpha, beta, gamma, phi) for a model kind."""
    alpha = 0.001 + 0.998 * x[0]
    beta = 0.0
    gamma = 0.0
    phi = 1.0
    if kind in (DAMPED, DAMPED_SEASONAL):
        beta = x[1] * alpha * 0.5
        phi = PHI_MIN + (PHI_MAX - PHI_MIN) * x[3]
    if kind in (SEASONAL, DAMPED_SEASONAL):
        gamma = x[2] * (1.0 - alpha) * 0.5
    return alpha, beta, gamma, phi


LANES = 8


@kernel
def drift_sse_lanes(y, alphas, level0, drift):
    """Squared one-step errors of simple smoothing with a fixed drift, for LANES alphas at once.

    The lanes are independent, so the CPU overlaps them: one pass over y costs
    about what one alpha would, instead of LANES passes.
    """
    levels = np.full(LANES, level0)
    sse = np.zeros(LANES)
    for t in range(len(y)):
        value = y[t]
        for i in range(LANES):
            predicted = levels[i] + drift
            error = value - predicted
            sse[i] += error * error
            levels[i] = predicted + alphas[i] * error
    return sse


@kernel
def fit_drift_alpha(y, level0, drift):
    """The alpha in [0.001, 0.999] minimising squared one-step error of smoothing with drift:
    a grid of LANES values, refined twice around the best."""
    alphas = np.array([0.003, 0.01, 0.03, 0.07, 0.15, 0.3, 0.55, 0.9])
    for _ in range(3):
        sse = drift_sse_lanes(y, alphas, level0, drift)
        best = np.argmin(sse)
        low = alphas[best - 1] if best > 0 else alphas[0] / 3.0
        high = alphas[best + 1] if best < LANES - 1 else min(0.999, (alphas[best] + 1.0) / 2.0)
        alphas = np.linspace(low, high, LANES)
    sse = drift_sse_lanes(y, alphas, level0, drift)
    return alphas[np.argmin(sse)]


@kernel
def ets_sse_lanes(y, m, params, level0, trend0, season0):
    """Squared one-step errors for LANES parameter sets at once; params is (LANES, 4) of
    (alpha, beta, gamma, phi). Independent lanes let the CPU overlap their arithmetic."""
    levels = np.full(LANES, level0)
    trends = np.full(LANES, trend0)
    sse = np.zeros(LANES)
    alpha = params[:, 0].copy()
    beta = params[:, 1].copy()
    gamma = params[:, 2].copy()
    phi = params[:, 3].copy()
    if m == 1:
        for t in range(len(y)):
            value = y[t]
            for i in range(LANES):
                predicted = levels[i] + phi[i] * trends[i]
                error = value - predicted
                sse[i] += error * error
                levels[i] = predicted + alpha[i] * error
                trends[i] = phi[i] * trends[i] + beta[i] * error
        return sse
    season = np.empty((m, LANES))
    for j in range(m):
        season[j, :] = season0[j]
    j = 0
    for t in range(len(y)):
        value = y[t]
        for i in range(LANES):
            damped = phi[i] * trends[i]
            predicted = levels[i] + damped + season[j, i]
            error = value - predicted
            sse[i] += error * error
            levels[i] = levels[i] + damped + alpha[i] * error
            trends[i] = damped + beta[i] * error
            season[j, i] += gamma[i] * error
        j += 1
        if j == m:
            j = 0
    return sse


@kernel
def _coordinate_search(kind, active, y, m, level, trend, season0, rounds):
    """Minimise squared one-step error over the active coordinates of the [0, 1]^4 box:
    each coordinate in turn is tried at LANES values in one pass over y, the bracket
    narrowing around the best value every round."""
    x = np.array([0.3, 0.2, 0.2, 0.7])
    width = np.full(4, 1.0)
    trial = np.empty((LANES, 4))
    points = np.empty((LANES, 4))
    for _ in range(rounds):
        for c in range(4):
            if not active[c]:
                continue
            low = max(0.0, x[c] - width[c] / 2.0)
            high = min(1.0, x[c] + width[c] / 2.0)
            for i in range(LANES):
                points[i] = x
                points[i, c] = low + (high - low) * i / (LANES - 1)
                alpha, beta, gamma, phi = _params(kind, points[i])
                trial[i, 0] = alpha
                trial[i, 1] = beta
                trial[i, 2] = gamma
                trial[i, 3] = phi
            sse = ets_sse_lanes(y, m, trial, level, trend, season0)
            x[c] = points[np.argmin(sse), c]
            width[c] *= 0.4
    return x


@kernel
def ets_fit(kind, y, m, drift):
    """Fit a model kind to y (n,). Returns (alpha, beta, gamma, phi, level0, trend0, season0).

    drift is the fixed trend of THETA (ignored otherwise). Seasonal kinds need n >= 2m.
    """
    seasonal = kind in (SEASONAL, DAMPED_SEASONAL)
    period = m if seasonal else 1
    trended = kind in (DAMPED, DAMPED_SEASONAL)
    level, trend, season0 = initial_states(y, period, trended)
    if kind == THETA:
        trend = drift
    if kind in (SES, THETA):
        alpha = fit_drift_alpha(y, level, trend)
        return alpha, 0.0, 0.0, 1.0, level, trend, season0
    active = np.array([True, trended, seasonal, trended])
    x = _coordinate_search(kind, active, y, period, level, trend, season0, 4)
    alpha, beta, gamma, phi = _params(kind, x)
    return alpha, beta, gamma, phi, level, trend, season0


@kernel
def ets_variance_factors(alpha, beta, phi, horizon):
    """Forecast-error variance at steps 1..horizon in units of the one-step variance,
    ignoring the season's contribution: v_k = 1 + sum_{j<k} (alpha + beta * S_j(phi))^2."""
    out = np.empty(horizon)
    total = 1.0
    out[0] = 1.0
    for j in range(1, horizon):
        c = alpha + beta * damped_sum(phi, j)
        total += c * c
        out[j] = total
    return out


# Robust smoothing: an observation further than CLIP scales from its forecast
# updates the state as if it had been only CLIP scales away (a Huber-type clean, as
# in robust Holt-Winters), so a spike does not drag the level. The scale is a
# running mean absolute error, itself fed clipped errors.
CLIP = 2.0
SCALE_SMOOTHING = 0.05
ABS_TO_SD = 1.2533  # E|e| = sd * sqrt(2/pi) for a normal error


@kernel
def initial_scale(y):
    """Mean absolute first difference of the first points, as a one-step error scale."""
    span = min(len(y), 50)
    total = 0.0
    for t in range(1, span):
        total += abs(y[t] - y[t - 1])
    scale = total / max(span - 1, 1) / np.sqrt(2.0)
    return scale if scale > 0 else 1e-12


@kernel
def robust_loss_lanes(y, alphas, level0):
    """Huber loss of robust simple smoothing for LANES alphas at once."""
    levels = np.full(LANES, level0)
    scales = np.full(LANES, initial_scale(y))
    loss = np.zeros(LANES)
    for t in range(len(y)):
        value = y[t]
        for i in range(LANES):
            error = value - levels[i]
            bound = CLIP * ABS_TO_SD * scales[i]
            if error > bound:
                loss[i] += 2.0 * bound * error - bound * bound
                error = bound
            elif error < -bound:
                loss[i] += -2.0 * bound * error - bound * bound
                error = -bound
            else:
                loss[i] += error * error
            levels[i] += alphas[i] * error
            scales[i] += SCALE_SMOOTHING * (abs(error) - scales[i])
    return loss


@kernel
def fit_robust_alpha(y, level0):
    """The alpha minimising the Huber loss of robust simple smoothing (grid, refined twice)."""
    alphas = np.array([0.003, 0.01, 0.03, 0.07, 0.15, 0.3, 0.55, 0.9])
    for _ in range(3):
        loss = robust_loss_lanes(y, alphas, level0)
        best = np.argmin(loss)
        low = alphas[best - 1] if best > 0 else alphas[0] / 3.0
        high = alphas[best + 1] if best < LANES - 1 else min(0.999, (alphas[best] + 1.0) / 2.0)
        alphas = np.linspace(low, high, LANES)
    return alphas[np.argmin(robust_loss_lanes(y, alphas, level0))]


@kernel
def robust_filter(y, alpha, level0):
    """Robust simple smoothing over y (n,): per-time levels (n,) and raw one-step residuals (n,)."""
    n = len(y)
    levels = np.empty(n)
    residuals = np.empty(n)
    level = level0
    scale = initial_scale(y)
    for t in range(n):
        error = y[t] - level
        residuals[t] = error
        bound = CLIP * ABS_TO_SD * scale
        error = min(max(error, -bound), bound)
        level += alpha * error
        scale += SCALE_SMOOTHING * (abs(error) - scale)
        levels[t] = level
    return levels, residuals
