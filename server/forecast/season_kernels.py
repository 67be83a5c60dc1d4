"""Seasonality: detect a repeating profile and remove it (an MSTL-style decomposition).

The profile of period m is the median, per phase, of the series minus its centred
moving average of length m (robust to spikes and level shifts), smoothed across
neighbouring phases. A period counts
as seasonal only when the profile repeats: the profiles estimated from alternate
cycles (even cycles vs odd cycles) must agree, so noise that happens to look
periodic in one stretch is not mistaken for a daily pattern.
"""

from __future__ import annotations

import numpy as np

from infracast.server.forecast.jit import kernel

# Two whole cycles must remain after the half cycles lost at each end to the trend window.
MIN_CYCLES = 3


@kernel
def centred_moving_average(y, window):
    """Mean of y over a centred window (shrunk at the ends), shape (n,)."""
    n = len(y)
    cumulative = np.zeros(n + 1)
    for i in range(n):
        cumulative[i + 1] = cumulative[i] + y[i]
    out = np.empty(n)
    half = window // 2
    for i in range(n):
        low = max(0, i - half)
        high = min(n, i - half + window)
        out[i] = (cumulative[high] - cumulative[low]) / (high - low)
    return out


@kernel
def circular_smooth(profile, width):
    """Moving average of a periodic profile (m,) over `width` phases, wrapping around."""
    m = len(profile)
    if width <= 1:
        return profile.copy()
    out = np.empty(m)
    half = width // 2
    for j in range(m):
        total = 0.0
        for d in range(-half, half + 1):
            total += profile[(j + d) % m]
        out[j] = total / (2 * half + 1)
    return out


@kernel
def smoothing_width(m):
    """About a 48th of the period, odd: half an hour of a day."""
    width = max(1, round(m / 48.0))
    return width if width % 2 == 1 else width + 1


@kernel
def alternate_cycle_profiles(y, m):
    """Per-phase means of the detrended series over even and over odd cycles, (m,) each.

    Only times whose centred window of length m lies wholly inside the series are
    used: at the ends a shrunken window leaves part of any trend in the "detrended"
    values, which would look like a pattern shared by the first and last cycles.
    """
    n = len(y)
    half = m // 2
    trend = centred_moving_average(y, m)
    even = np.zeros(m)
    odd = np.zeros(m)
    count_even = np.zeros(m)
    count_odd = np.zeros(m)
    for t in range(half, n - (m - half) + 1):
        j = t % m
        value = y[t] - trend[t]
        if ((t - half) // m) % 2 == 0:
            even[j] += value
            count_even[j] += 1
        else:
            odd[j] += value
            count_odd[j] += 1
    for j in range(m):
        even[j] /= max(count_even[j], 1.0)
        odd[j] /= max(count_odd[j], 1.0)
    return even - even.mean(), odd - odd.mean()


@kernel
def correlation(a, b):
    a0 = a - a.mean()
    b0 = b - b.mean()
    denominator = np.sqrt((a0 * a0).sum() * (b0 * b0).sum())
    return (a0 * b0).sum() / denominator if denominator > 0 else 0.0


@kernel
def median_profile(y, m):
    """Per-phase median of the detrended series (m,), centred: robust to spikes and shifts."""
    n = len(y)
    half = m // 2
    trend = centred_moving_average(y, m)
    first = half
    last = n - (m - half) + 1
    cycles = (last - first) // m + 1
    values = np.full((m, cycles), np.nan)
    for t in range(first, last):
        values[t % m, (t - first) // m] = y[t] - trend[t]
    out = np.empty(m)
    for j in range(m):
        row = values[j]
        out[j] = np.median(row[~np.isnan(row)]) if (~np.isnan(row)).any() else 0.0
    return out - out.mean()


@kernel
def seasonal_profile(y, m):
    """The smoothed seasonal profile (m,), per-phase medians, and its repeatability: the
    correlation of the profiles from alternate cycles (in [-1, 1]; 0 with fewer than
    MIN_CYCLES cycles)."""
    if m < 2 or len(y) < MIN_CYCLES * m:
        return np.zeros(max(m, 1)), 0.0
    width = smoothing_width(m)
    even, odd = alternate_cycle_profiles(y, m)
    repeatability = correlation(circular_smooth(even, width), circular_smooth(odd, width))
    return circular_smooth(median_profile(y, m), width), repeatability


@kernel
def seasonal_component(profile, start, count):
    """The profile laid out over `count` times from time index `start`, shape (count,)."""
    m = len(profile)
    out = np.empty(count)
    for i in range(count):
        out[i] = profile[(start + i) % m]
    return out


@kernel
def dominant_period(y, min_period, max_period):
    """The lag in [min_period, max_period] with the highest autocorrelation of the
    detrended series, and that autocorrelation (used when the sampling step is unknown)."""
    n = len(y)
    x = y - centred_moving_average(y, max(3, min(n // 4, max_period * 2 + 1)))
    x = x - x.mean()
    variance = (x * x).sum()
    best_lag, best = 0, 0.0
    if variance <= 0:
        return best_lag, best
    for lag in range(min_period, min(max_period, n // 2) + 1):
        total = 0.0
        for t in range(lag, n):
            total += x[t] * x[t - lag]
        value = total / variance
        if value > best:
            best_lag, best = lag, value
    return best_lag, best
