"""Errors of a model's own forecasts from many past origins, for choosing and calibrating.

Every model here is described by a trajectory: after each time t, a level L[t],
a trend B[t] (damped by phi) and seasonal terms S (latest per phase), so the
forecast made at t for t + k is L[t] + (phi + ... + phi^k) B[t] + S[t + k - back].
Errors are measured for a set of members (one model, or several averaged).
Seasonal naive is L = B = 0, S = y; a rolling least-squares line is L = its
fitted value at t, B = its slope, phi = 1.
"""

from __future__ import annotations

import numpy as np

from infracast.server.forecast.ets_kernels import damped_sum, seasonal_at
from infracast.server.forecast.jit import kernel

MIN_ORIGINS = 30
DENSE_WINDOW = 500  # calibration windows shorter than this use every origin


@kernel
def calibration_steps(horizon):
    """Steps at which error quantiles are measured: all up to 4, then about 1.4x apart, and the last."""
    steps = np.empty(horizon, dtype=np.int64)
    count = 0
    k = 1
    while k < horizon:
        steps[count] = k
        count += 1
        k = k + 1 if k < 4 else max(k + 1, int(k * 1.4142))
    steps[count] = horizon
    return steps[:count + 1]


@kernel
def extend_and_envelope(quantiles, medians, probs, variance_factors):
    """Fill steps without enough origins by scaling the last calibrated step with the
    model's variance growth, make bounds spread monotonically with the horizon around
    each step's median error medians (horizon,) (isotonic regression), and keep zero
    (the point forecast) inside every interval.

    The spread around the median, not each bound, is made monotone: where errors
    alternate in sign from step to step (an alternation no model follows), the bounds
    move with them instead of being averaged into intervals that fit no step.
    """
    horizon, count = quantiles.shape
    last = -1
    for k in range(horizon):
        if not np.isnan(quantiles[k, 0]):
            last = k
    for k in range(horizon):
        if np.isnan(quantiles[k, 0]) and last >= 0 and k > last:
            scale = np.sqrt(variance_factors[k] / variance_factors[last])
            medians[k] = medians[last] * scale
            for j in range(count):
                quantiles[k, j] = quantiles[last, j] * scale
    middle = np.where(np.isnan(medians), 0.0, medians)
    for j in range(count):
        if probs[j] < 0.5:
            quantiles[:, j] = middle - isotonic_increasing(middle - quantiles[:, j])
        elif probs[j] > 0.5:
            quantiles[:, j] = middle + isotonic_increasing(quantiles[:, j] - middle)
        # Bounds always contain the point forecast, even when past errors lean one way.
        for k in range(horizon):
            if probs[j] < 0.5:
                quantiles[k, j] = min(quantiles[k, j], 0.0)
            elif probs[j] > 0.5:
                quantiles[k, j] = max(quantiles[k, j], 0.0)
    return quantiles


@kernel
def isotonic_increasing(values):
    """The non-decreasing sequence closest to values in squared error (pool adjacent
    violators). Unlike a running maximum, it does not ratchet up on noise."""
    n = len(values)
    means = np.empty(n)
    sizes = np.empty(n, dtype=np.int64)
    blocks = 0
    for i in range(n):
        means[blocks] = values[i]
        sizes[blocks] = 1
        blocks += 1
        while blocks > 1 and means[blocks - 2] > means[blocks - 1]:
            total = means[blocks - 2] * sizes[blocks - 2] + means[blocks - 1] * sizes[blocks - 1]
            sizes[blocks - 2] += sizes[blocks - 1]
            means[blocks - 2] = total / sizes[blocks - 2]
            blocks -= 1
    out = np.empty(n)
    position = 0
    for b in range(blocks):
        for _ in range(sizes[b]):
            out[position] = means[b]
            position += 1
    return out


@kernel
def rolling_line(y, window):
    """Least-squares line over the last `window` points at every t (predict_linear's model):
    the fitted value at t (n,) and the slope (n,), from running sums in O(n)."""
    n = len(y)
    fitted = np.empty(n)
    slopes = np.empty(n)
    sum_y = 0.0
    sum_ty = 0.0
    for t in range(n):
        sum_y += y[t]
        sum_ty += t * y[t]
        if t >= window:
            sum_y -= y[t - window]
            sum_ty -= (t - window) * y[t - window]
        start = max(0, t - window + 1)
        count = t - start + 1
        if count == 1:
            fitted[t] = y[t]
            slopes[t] = 0.0
            continue
        # Times start..t: their mean and spread have closed forms.
        mean_t = (start + t) / 2.0
        sxx = count * (count * count - 1) / 12.0
        mean_y = sum_y / count
        slope = (sum_ty - count * mean_t * mean_y) / sxx
        slopes[t] = slope
        fitted[t] = mean_y + slope * (t - mean_t)
    return fitted, slopes


# A panel holds several candidates' trajectories, one row each, so forecasts that
# average several models (an ensemble) are backtested exactly like single models.
# Row i: levels[i], trends[i], seasonals[i] (n,), season0[i, :periods[i]], phis[i];
# deseasonalised[i] says the row models y minus the seasonal component, which
# component (n + horizon,) adds back.


@kernel
def panel_forecast(levels, trends, seasonals, season0, periods, phis, deseasonalised, component,
                   members, weights, t, k):
    """Weighted mean of the members' forecasts made at t for t + k (weights sum to 1)."""
    return panel_forecast_damped(levels, trends, seasonals, season0, periods, deseasonalised,
                                 component, members, weights,
                                 member_damping(phis, members, k), t, k)


@kernel
def member_damping(phis, members, k):
    """phi + ... + phi^k for each member (computed once per step, not per origin)."""
    out = np.empty(len(members))
    for position in range(len(members)):
        out[position] = damped_sum(phis[members[position]], k)
    return out


@kernel
def panel_forecast_damped(levels, trends, seasonals, season0, periods, deseasonalised, component,
                          members, weights, damping, t, k):
    total = 0.0
    for position in range(len(members)):
        i = members[position]
        m = periods[i]
        value = levels[i, t] + damping[position] * trends[i, t]
        if m > 1:
            value += seasonal_at(seasonals[i], season0[i, :m], m, t, k)
        if deseasonalised[i]:
            value += component[t + k]
        total += weights[position] * value
    return total


@kernel
def panel_mean_abs_error(y, levels, trends, seasonals, season0, periods, phis, deseasonalised,
                         component, members, weights, steps, first_origin):
    """Mean over steps of the mean absolute error of the members' average forecast
    (inf when no step has an origin)."""
    n = len(y)
    score = 0.0
    counted = 0
    for k in steps:
        total = 0.0
        count = 0
        damping = member_damping(phis, members, k)
        for t in range(first_origin, n - k):
            forecast = panel_forecast_damped(levels, trends, seasonals, season0, periods,
                                             deseasonalised, component, members, weights,
                                             damping, t, k)
            total += abs(y[t + k] - forecast)
            count += 1
        if count > 0:
            score += total / count
            counted += 1
    return score / counted if counted > 0 else np.inf


# The local error scale: a running mean of absolute one-step errors, each clipped at
# SCALE_CLIP times the scale so far (a spike does not inflate it for days), never below
# SCALE_FLOOR times the mean over the whole window (a quiet spell does not make it zero).
SCALE_SMOOTHING = 0.01  # weight of the newest error: a memory of about a hundred steps
SCALE_CLIP = 4.0
SCALE_FLOOR = 0.2


@kernel
def panel_error_scales(y, levels, trends, seasonals, season0, periods, phis, deseasonalised,
                       component, members, weights, first_origin):
    """The scale of the members' one-step errors known at each time t (n,), from first_origin.

    Errors are divided by the scale at their origin before their quantiles are taken,
    and the quantiles multiplied by the latest scale, so intervals follow the series'
    current volatility instead of its average over the calibration window (studentised,
    or locally weighted, conformal prediction). All ones when the model never erred.
    """
    n = len(y)
    start = max(first_origin, 1)
    scales = np.ones(n)
    if n - start < 2:
        return scales
    damping = member_damping(phis, members, 1)
    errors = np.empty(n - start)
    for t in range(start, n):
        forecast = panel_forecast_damped(levels, trends, seasonals, season0, periods,
                                         deseasonalised, component, members, weights,
                                         damping, t - 1, 1)
        errors[t - start] = abs(y[t] - forecast)
    overall = errors.mean()
    if not overall > 0.0:
        return scales
    floor = SCALE_FLOOR * overall
    warm = min(len(errors), int(1.0 / SCALE_SMOOTHING))
    scale = max(errors[:warm].mean(), floor)
    scales[:start] = scale
    for t in range(start, n):
        scale += SCALE_SMOOTHING * (min(errors[t - start], SCALE_CLIP * scale) - scale)
        scale = max(scale, floor)
        scales[t] = scale
    return scales


@kernel
def conformal_quantile(ordered, p):
    """The p-quantile of a sample (ordered ascending) for a new draw: the value at rank
    p * (count + 1), interpolated, clamped to the sample. Unlike p * (count - 1), it
    covers a fresh exchangeable draw with probability at least p (split conformal)."""
    count = len(ordered)
    position = min(max(p * (count + 1) - 1.0, 0.0), count - 1.0)
    low = int(np.floor(position))
    high = min(low + 1, count - 1)
    fraction = position - low
    return ordered[low] * (1.0 - fraction) + ordered[high] * fraction


# Level correction: how far the older half's quantile missed on the newer half, applied
# with this weight (shrunk for few errors, where a miss rate is mostly noise).
LEVEL_PRIOR = 200  # errors at which half the measured correction is applied


@kernel
def honest_level(newer, older, p):
    """The level at which to take the quantile of all calibration errors so that it
    covers a later error with probability p, learned from the series' own history.

    Calibration errors come from a model chosen and fitted on the same data, and the
    series changes over time, so their p-quantile covers the future less often than p.
    Measured out of time: the p-quantile of the older half of the errors covers a fraction
    f of the newer half; the level moves by p - f (shrunk for few errors), clamped.
    Only past errors are used, never the future. Both halves come sorted ascending.
    """
    half = len(newer)
    below = np.searchsorted(newer, conformal_quantile(older, p), side="right")
    shortfall = p - below / half
    shrink = half / (half + LEVEL_PRIOR)
    level = p + shrink * shortfall
    # At most half the nominal tail either way: a wider move would rest on a handful of
    # errors in the tail.
    tail = min(p, 1.0 - p)
    return min(max(level, p - tail / 2.0), p + tail / 2.0)


@kernel
def merge_sorted(a, b):
    """Two ascending arrays merged into one (cheaper than sorting them again)."""
    out = np.empty(len(a) + len(b))
    i = 0
    j = 0
    for position in range(len(out)):
        if j >= len(b) or (i < len(a) and a[i] <= b[j]):
            out[position] = a[i]
            i += 1
        else:
            out[position] = b[j]
            j += 1
    return out


@kernel
def panel_error_quantiles(y, levels, trends, seasonals, season0, periods, phis, deseasonalised,
                          component, members, weights, horizon, first_origin, probs, scales):
    """Quantiles (horizon, p) at probs of the members' k-step errors (actual minus
    forecast) from origins first_origin.. (NaN where too few), each error divided by
    scales at its origin and the quantiles multiplied back by the latest scale; with
    the count of origins per step (horizon,) and the median errors (horizon,)."""
    n = len(y)
    out = np.full((horizon, len(probs)), np.nan)
    medians = np.full(horizon, np.nan)
    counts = np.zeros(horizon, dtype=np.int64)
    for k in range(1, horizon + 1):
        counts[k - 1] = max(n - k - first_origin, 0)
    buffer = np.empty(max(n - first_origin, 1))
    steps = calibration_steps(horizon)
    latest = scales[n - 1]
    previous = -1
    for k in steps:
        count = 0
        damping = member_damping(phis, members, k)
        # Every other origin: a long calibration window (it is the window's length that
        # makes coverage hold when behaviour changes) at half the sorting cost. k-step errors
        # from neighbouring origins share most of their path, so longer steps thin out more.
        # A short window keeps every origin: there, each error counts.
        stride = 1 if n - first_origin < DENSE_WINDOW else k // 16 + 2
        # Origins in the same phase (mod stride) as the forecast's own origin n - 1, so
        # the targets are too: a series alternating between two levels would otherwise
        # be calibrated at odd steps only on targets of the other parity.
        last = n - 1 - stride * ((k + stride - 1) // stride)
        for t in range(last, first_origin - 1, -stride):
            forecast = panel_forecast_damped(levels, trends, seasonals, season0, periods,
                                             deseasonalised, component, members, weights,
                                             damping, t, k)
            buffer[count] = (y[t + k] - forecast) / scales[t]
            count += 1
        if count < MIN_ORIGINS:
            break
        # The buffer runs from the newest origin back: its first half is the newer.
        newer = np.sort(buffer[:count // 2])
        older = np.sort(buffer[count // 2:count])
        errors = merge_sorted(newer, older)
        for j in range(len(probs)):
            level = honest_level(newer, older, probs[j])
            out[k - 1, j] = conformal_quantile(errors, level) * latest
        medians[k - 1] = 0.5 * (errors[(count - 1) // 2] + errors[count // 2]) * latest
        if previous > 0:
            for between in range(previous + 1, k):
                weight = (between - previous) / (k - previous)
                medians[between - 1] = medians[previous - 1] * (1.0 - weight) + medians[k - 1] * weight
                for j in range(len(probs)):
                    out[between - 1, j] = (out[previous - 1, j] * (1.0 - weight)
                                           + out[k - 1, j] * weight)
        previous = k
    return out, counts, medians
