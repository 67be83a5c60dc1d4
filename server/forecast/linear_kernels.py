"""Least-squares linear trend, the model behind Prometheus `predict_linear`."""

from __future__ import annotations

import numpy as np

from infracast.server.forecast.jit import kernel


@kernel
def linear_fit(t, y):
    """Fit y = intercept + slope * t by least squares.

    t, y : (n,) float64, n >= 1. Returns (intercept, slope, residual_std, t_mean, sxx);
    with one point the slope is 0 and the residual deviation is 0.
    """
    n = len(t)
    t_mean = t.mean()
    y_mean = y.mean()
    sxx = 0.0
    sxy = 0.0
    for i in range(n):
        sxx += (t[i] - t_mean) ** 2
        sxy += (t[i] - t_mean) * (y[i] - y_mean)
    slope = sxy / sxx if sxx > 0.0 else 0.0
    intercept = y_mean - slope * t_mean
    sse = 0.0
    for i in range(n):
        residual = y[i] - intercept - slope * t[i]
        sse += residual * residual
    residual_std = np.sqrt(sse / (n - 2)) if n > 2 else 0.0
    return intercept, slope, residual_std, t_mean, sxx


@kernel
def linear_prediction_std(residual_std, n, t_mean, sxx, t_future):
    """Standard deviation of a new observation at each time in t_future (m,)."""
    out = np.empty(len(t_future))
    for i in range(len(t_future)):
        leverage = 1.0 / n + ((t_future[i] - t_mean) ** 2 / sxx if sxx > 0.0 else 0.0)
        out[i] = residual_std * np.sqrt(1.0 + leverage)
    return out
