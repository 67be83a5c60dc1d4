"""How much of a series' movement is sample noise that does not persist.

Differences at lag 1 and lag L of a series made of independent noise (sd sigma) around a
level that wanders like a random walk (step sd s) have variances 2 sigma^2 + s^2 and
2 sigma^2 + L s^2: two equations for the two unknowns. Robust spreads (MAD about the
median, which also removes a steady trend) keep bursts and clean-ups out of the estimate.
"""

from __future__ import annotations

import numpy as np

LAG = 10
MAD_TO_SD = 1.4826


def _robust_variance(differences: np.ndarray) -> float:
    if len(differences) < 8:
        return 0.0
    spread = MAD_TO_SD * float(np.median(np.abs(differences - np.median(differences))))
    return spread * spread


def transient_noise_sd(values: np.ndarray) -> float:
    """The sd of the independent per-sample noise in values (equally spaced, oldest first)."""
    if len(values) < 4 * LAG:
        return 0.0
    near = _robust_variance(np.diff(values))
    far = _robust_variance(values[LAG:] - values[:-LAG])
    walk = max(0.0, (far - near) / (LAG - 1))
    return float(np.sqrt(max(0.0, (near - walk) / 2.0)))
