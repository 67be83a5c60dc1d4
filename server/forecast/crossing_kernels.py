"""The probability that a series reaches a threshold at some sample within a horizon.

The forecast gives, at each future point, quantiles of the error (actual minus forecast).
Reading only the most likely point (the largest per-point probability) is exact for a
series that moves one way, but a noisy series hovering near a threshold crosses it far
more often than any single point says: each sample is another draw of its noise.

So the error is split in two. A persistent part (the level or trend being off) moves the
whole path together: one quantile u of it holds at every point. A transient part (sample
noise, sd `noise_sd`) is drawn independently at every sample. Then
    P(reach) = mean over u of  1 - prod_k (1 - P(noise >= gap_k - persistent_k(u)))^samples_k
where the persistent part's spread is what is left of each point's error spread once the
noise is taken out.
"""

from __future__ import annotations

import math

import numpy as np

from infracast.server.forecast.jit import kernel

PERSISTENT_QUANTILES = 100  # u grid for the persistent part
NEGLIGIBLE_Z = 9.0  # noise this many sds away: a chance below 1e-19 per sample
SPREAD_80 = 2.5631031310892007  # width of a standard normal's central 80 % interval


@kernel
def _upper_tail(x):
    """P(Z >= x) for a standard normal Z."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


@kernel
def _sample_reach(needed, noise_sd):
    """P(noise >= needed) for one sample; without noise, whether needed is already met."""
    if noise_sd > 0.0:
        return _upper_tail(needed / noise_sd)
    return 1.0 if needed <= 0.0 else 0.0


@kernel
def exceedance(gaps, quantiles, probs, rising):
    """P(the value at each point is at or beyond the threshold) (k,), from the error
    quantiles (k, p) at probs (p,) and gaps (k,) = threshold - point forecast."""
    out = np.empty(len(gaps))
    for k in range(len(gaps)):
        row = quantiles[k]
        if gaps[k] <= row[0]:
            below = 0.0
        elif gaps[k] >= row[-1]:
            below = 1.0
        else:
            below = np.interp(gaps[k], row, probs)
        out[k] = 1.0 - below if rising else below
    return out


@kernel
def reach_cdf(gaps, quantiles, probs, samples, noise_sd, rising):
    """P(some sample up to point k reaches the threshold), for every point k (k,): the
    distribution of the first crossing time. gaps (k,) = threshold - point forecast, error
    quantiles (k, p) at probs (p,), the samples (k,) each point stands for (the native
    samples since the previous point) and the sd of per-sample noise."""
    k_points = len(gaps)
    low = np.searchsorted(probs, 0.1)
    high = np.searchsorted(probs, 0.9)
    shrink = np.empty(k_points)
    reachable = np.zeros(k_points, dtype=np.bool_)
    for k in range(k_points):
        spread = (quantiles[k, high] - quantiles[k, low]) / SPREAD_80
        if spread <= 0.0 or spread <= noise_sd:
            shrink[k] = 0.0
        else:
            shrink[k] = math.sqrt(1.0 - (noise_sd / spread) ** 2)
        # The most favourable persistent error (the last u of the grid): if even that leaves
        # the threshold out of the noise's reach, no u gets there at this point.
        u_end = (PERSISTENT_QUANTILES - 0.5) / PERSISTENT_QUANTILES
        best = np.interp(u_end if rising else 1.0 - u_end, probs, quantiles[k]) * shrink[k]
        needed = gaps[k] - best if rising else best - gaps[k]
        reachable[k] = needed <= NEGLIGIBLE_Z * noise_sd
    cdf = np.zeros(k_points)
    for i in range(PERSISTENT_QUANTILES):
        u = (i + 0.5) / PERSISTENT_QUANTILES
        log_none = 0.0
        for k in range(k_points):
            if reachable[k] and log_none > -np.inf:
                persistent = np.interp(u, probs, quantiles[k]) * shrink[k]
                # Rising: the noise must be at least gap - persistent; falling: at most that,
                # which for symmetric noise is the same chance as at least its negative.
                needed = gaps[k] - persistent if rising else persistent - gaps[k]
                each = _sample_reach(needed, noise_sd)
                log_none = -np.inf if each >= 1.0 else log_none + samples[k] * math.log1p(-each)
            cdf[k] += 1.0 - math.exp(log_none)
    return cdf / PERSISTENT_QUANTILES
