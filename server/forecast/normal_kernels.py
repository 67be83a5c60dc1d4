"""Normal and Student t quantile functions, for intervals of the short-history fallbacks."""

from __future__ import annotations

import numpy as np

from infracast.server.forecast.jit import kernel

# Acklam's rational approximation (relative error below 1.2e-9).
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00)


@kernel
def normal_quantile(p):
    """z with P(Z <= z) = p for a standard normal Z; p in (0, 1)."""
    if p <= 0.0:
        return -np.inf
    if p >= 1.0:
        return np.inf
    if p < 0.02425:
        q = np.sqrt(-2.0 * np.log(p))
        return ((((( _C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / \
            ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0)
    if p > 1.0 - 0.02425:
        q = np.sqrt(-2.0 * np.log(1.0 - p))
        return -((((( _C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / \
            ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0)
    q = p - 0.5
    r = q * q
    return (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q / \
        (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)


@kernel
def student_t_quantile(p, df):
    """t with P(T <= t) = p for Student's t with df degrees of freedom (df >= 1).

    Exact for df 1 and 2; beyond, the Cornish-Fisher expansion around the normal
    quantile (Abramowitz and Stegun 26.7.5), within 0.4 % for df >= 3 at p in [0.01, 0.99].
    A spread estimated from few points is itself uncertain: its intervals must be wider.
    """
    if p <= 0.0:
        return -np.inf
    if p >= 1.0:
        return np.inf
    if df < 1.5:
        return np.tan(np.pi * (p - 0.5))
    if df < 2.5:
        return (2.0 * p - 1.0) / np.sqrt(2.0 * p * (1.0 - p))
    z = normal_quantile(p)
    z2 = z * z
    g1 = (z2 + 1.0) * z / 4.0
    g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0
    g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0
    g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0
    return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4
