"""Baselines that need no fitting: seasonal naive, and a drift robust to bursts."""

from __future__ import annotations

import numpy as np

from infracast.server.forecast.jit import kernel


@kernel
def seasonal_naive_forecast(y, m, horizon):
    """y at the same phase one (or more) periods back, shape (horizon,)."""
    n = len(y)
    out = np.empty(horizon)
    for k in range(1, horizon + 1):
        back = ((k - 1) // m + 1) * m
        out[k - 1] = y[n - 1 + k - back] if n - 1 + k - back >= 0 else y[n - 1]
    return out


@kernel
def robust_slope(y, lag):
    """Median of (y[t] - y[t - lag]) / lag: the typical growth per step.

    A burst of writes or a clean-up changes only the differences that straddle
    it, so, unlike a least-squares slope over a short window, the estimate does
    not swing with them.
    """
    n = len(y)
    if n <= lag:
        return 0.0
    differences = (y[lag:] - y[:n - lag]) / lag
    return np.median(differences)
