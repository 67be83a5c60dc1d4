"""A drift that needs no fitting and is robust to bursts (seasonal naive needs no kernel:
it is a trajectory whose seasonal terms are the series itself, see backtest_kernels)."""

from __future__ import annotations

import numpy as np

from infracast.server.forecast.jit import kernel


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
