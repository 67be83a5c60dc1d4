"""Damped-trend exponential smoothing (additive error, damped additive trend).

Error-correction form, one step at a time:
    forecast  f_t   = l_{t-1} + phi * b_{t-1}
    error     e_t   = y_t - f_t
    level     l_t   = f_t + alpha * e_t
    trend     b_t   = phi * b_{t-1} + beta * e_t
phi = 1 is Holt's linear trend; phi < 1 flattens the trend with the horizon.
"""

from __future__ import annotations

import numpy as np

from infracast.server.forecast.jit import kernel

ALPHAS = np.array([0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99])
BETA_RATIOS = np.array([0.0, 0.01, 0.05, 0.1, 0.3, 0.6])
PHIS = np.array([0.8, 0.9, 0.95, 0.98, 0.995, 1.0])


@kernel
def holt_initial_state(y):
    """Level and trend to start from: first value and mean slope of the first 10 steps.

    y : (n,) float64, n >= 2
    """
    span = min(len(y) - 1, 10)
    return y[0], (y[span] - y[0]) / span


@kernel
def holt_smooth(y, alpha, beta, phi):
    """Run the smoother over y (n,); return the final level, trend and squared one-step error sum."""
    level, trend = holt_initial_state(y)
    sse = 0.0
    for t in range(1, len(y)):
        predicted = level + phi * trend
        error = y[t] - predicted
        sse += error * error
        level = predicted + alpha * error
        trend = phi * trend + beta * error
    return level, trend, sse


@kernel
def holt_sse(y, alpha, beta, phi):
    """Sum of squared one-step-ahead errors of the smoother over y (n,)."""
    return holt_smooth(y, alpha, beta, phi)[2]


@kernel
def holt_final_state(y, alpha, beta, phi):
    """Level, trend and one-step residual standard deviation after smoothing y (n,)."""
    level, trend, sse = holt_smooth(y, alpha, beta, phi)
    dof = max(len(y) - 1 - 3, 1)
    return level, trend, np.sqrt(sse / dof)


@kernel
def holt_fit(y, alphas, beta_ratios, phis):
    """Choose (alpha, beta, phi) minimising squared one-step error.

    A grid search over alphas x beta_ratios x phis (beta = ratio * alpha keeps
    0 <= beta <= alpha), then a few rounds of halving steps around the best
    point. Returns (alpha, beta, phi, sse).
    """
    best = np.inf
    best_alpha, best_beta, best_phi = alphas[0], 0.0, phis[-1]
    for alpha in alphas:
        for ratio in beta_ratios:
            for phi in phis:
                sse = holt_sse(y, alpha, ratio * alpha, phi)
                if sse < best:
                    best, best_alpha, best_beta, best_phi = sse, alpha, ratio * alpha, phi
    step_alpha, step_beta, step_phi = 0.05, 0.02, 0.01
    for _ in range(6):
        improved = True
        while improved:
            improved = False
            for da, db, dp in ((step_alpha, 0.0, 0.0), (-step_alpha, 0.0, 0.0),
                               (0.0, step_beta, 0.0), (0.0, -step_beta, 0.0),
                               (0.0, 0.0, step_phi), (0.0, 0.0, -step_phi)):
                alpha = min(max(best_alpha + da, 0.001), 0.999)
                beta = min(max(best_beta + db, 0.0), alpha)
                phi = min(max(best_phi + dp, 0.7), 1.0)
                sse = holt_sse(y, alpha, beta, phi)
                if sse < best - 1e-12 * (1.0 + best):
                    best, best_alpha, best_beta, best_phi = sse, alpha, beta, phi
                    improved = True
        step_alpha *= 0.5
        step_beta *= 0.5
        step_phi *= 0.5
    return best_alpha, best_beta, best_phi, best


@kernel
def holt_forecast(level, trend, phi, horizon):
    """Point forecasts for steps 1..horizon, shape (horizon,)."""
    out = np.empty(horizon)
    damping = 0.0
    power = 1.0
    for h in range(horizon):
        power *= phi
        damping += power
        out[h] = level + damping * trend
    return out


@kernel
def holt_variance_factors(alpha, beta, phi, horizon):
    """Forecast-error variance at steps 1..horizon in units of the one-step variance.

    v_h = 1 + sum_{j=1}^{h-1} c_j^2 with c_j = alpha + beta * (phi + ... + phi^j).
    """
    out = np.empty(horizon)
    total = 1.0
    damping = 0.0
    power = 1.0
    out[0] = 1.0
    for j in range(1, horizon):
        power *= phi
        damping += power
        c = alpha + beta * damping
        total += c * c
        out[j] = total
    return out
