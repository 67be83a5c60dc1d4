"""Prediction intervals cover what they say, over many forecasts whose truth is known."""

import numpy as np
import pytest

from infracast.server.forecast.backtest_kernels import conformal_quantile, panel_error_quantiles
from infracast.server.forecast.engine import forecast_values
from infracast.server.forecast.normal_kernels import student_t_quantile


def coverage(histories, futures, horizon, **options):
    """Share of future values inside the 80 % and 95 % intervals, per step (horizon,)."""
    hits = {80.0: np.zeros(horizon), 95.0: np.zeros(horizon)}
    for history, future in zip(histories, futures, strict=True):
        f = forecast_values(history, horizon, **options)
        for level, counted in hits.items():
            counted += (future >= f.lower[level]) & (future <= f.upper[level])
    return {level: counted / len(histories) for level, counted in hits.items()}


def test_a_gaussian_random_walk_is_covered_at_the_nominal_rate():
    rng = np.random.default_rng(11)
    walks = np.cumsum(rng.normal(0, 1, (1000, 612)), axis=1)
    covered = coverage(walks[:, :600], walks[:, 600:], 12, season_length=0)
    for level, low, high in ((80.0, 0.78, 0.82), (95.0, 0.935, 0.965)):
        assert low <= covered[level].mean() <= high, (level, covered[level])
        # Every step, not only on average (one forecast per walk: wider tolerance).
        assert np.all(np.abs(covered[level] - level / 100) < 0.04), (level, covered[level])


def test_intervals_follow_a_rise_in_volatility():
    # Noise four times larger over the last 300 of 2,000 points: intervals calibrated on
    # the whole window's errors would cover far less than 80 % now.
    rng = np.random.default_rng(12)
    scale = np.where(np.arange(2006) < 1700, 1.0, 4.0)
    series = 50 + rng.normal(0, 1, (300, 2006)) * scale
    covered = coverage(series[:, :2000], series[:, 2000:], 6, season_length=0)
    assert 0.75 <= covered[80.0].mean() <= 0.85, covered[80.0]
    assert 0.92 <= covered[95.0].mean() <= 0.98, covered[95.0]


def test_intervals_shrink_after_a_fall_in_volatility():
    rng = np.random.default_rng(13)
    scale = np.where(np.arange(2006) < 1700, 4.0, 1.0)
    series = 50 + rng.normal(0, 1, (300, 2006)) * scale
    covered = coverage(series[:, :2000], series[:, 2000:], 6, season_length=0)
    assert covered[80.0].mean() <= 0.86, covered[80.0]


def test_step_errors_are_calibrated_on_targets_of_the_forecasts_own_parity():
    # A flat forecast of a series alternating between 9 and 11, ending on 9: the next
    # value (step 1) is 11, so step-1 errors must come from origins whose next value
    # was 11 too, not from every other origin counted from the wrong end.
    n = 1600
    y = 10.0 + np.where(np.arange(n) % 2 == 1, -1.0, 1.0)
    zeros = np.zeros((1, n))
    probs = np.array([0.1, 0.9])
    quantiles, _, _ = panel_error_quantiles(
        y, np.full((1, n), 10.0), zeros, zeros, np.zeros((1, 1)), np.ones(1, dtype=np.int64),
        np.ones(1), np.zeros(1, dtype=np.bool_), np.zeros(n + 4), np.zeros(1, dtype=np.int64),
        np.ones(1), 4, 10, probs, np.ones(n))
    np.testing.assert_allclose(quantiles[:, 0], [1.0, -1.0, 1.0, -1.0])
    np.testing.assert_allclose(quantiles[:, 1], [1.0, -1.0, 1.0, -1.0])


def test_a_short_history_of_noise_is_covered_despite_its_uncertain_spread():
    # Ten points: the spread is itself estimated from ten values, so normal quantiles
    # would cover about 92 %; Student t quantiles cover 95 %. (The 80 % interval falls a
    # little short: a line is chosen when the noise happens to look like a trend.)
    rng = np.random.default_rng(15)
    samples = rng.normal(0, 1, (3000, 11))
    covered = coverage(samples[:, :10], samples[:, 10:], 1, season_length=0)
    assert 0.94 <= covered[95.0][0] <= 0.96, covered[95.0]
    assert 0.76 <= covered[80.0][0] <= 0.82, covered[80.0]


@pytest.mark.parametrize(("p", "df", "expected"), [
    (0.975, 1, 12.7062), (0.975, 2, 4.302653), (0.975, 3, 3.182446), (0.99, 3, 4.540703),
    (0.9, 5, 1.475884), (0.975, 10, 2.228139), (0.1, 4, -1.533206), (0.5, 7, 0.0),
])
def test_student_t_quantiles_match_the_tables(p, df, expected):
    assert student_t_quantile(p, df) == pytest.approx(expected, rel=5e-3, abs=1e-9)


def test_the_conformal_rank_covers_a_new_draw():
    # Of 19 errors, the largest is the 95 % bound for a 20th (rank 0.95 * 20 = 19);
    # interpolating at p * (n - 1) would sit below it.
    ordered = np.arange(1.0, 20.0)
    assert conformal_quantile(ordered, 0.95) == 19.0
    assert conformal_quantile(ordered, 0.05) == 1.0
    assert conformal_quantile(ordered, 0.5) == 10.0


def test_a_series_alternating_between_two_levels_is_covered_at_every_step():
    # No model without a season of 2 follows the alternation, so the errors change sign
    # from step to step; widening bound by bound would average them into intervals that
    # fit no step. The spread around each step's median error widens instead.
    rng = np.random.default_rng(14)
    t = np.arange(1606)
    histories, futures = [], []
    for start in range(200):
        y = 10 + np.where((t + start) % 2 == 0, 1.0, -1.0) + rng.normal(0, 0.3, len(t))
        histories.append(y[:1600])
        futures.append(y[1600:])
    covered = coverage(histories, futures, 6, season_length=0)
    assert np.all(covered[80.0] >= 0.75), covered[80.0]
    assert np.all(covered[95.0] >= 0.92), covered[95.0]


def test_twenty_points_of_a_random_walk_are_not_covered_as_if_they_were_noise():
    # A line or a mean through 20 points of a walk leaves runs of residuals of one sign;
    # the walk then strays from it. Bounds that also cover a walk from the last value
    # (when the residuals are autocorrelated) keep most of the coverage.
    rng = np.random.default_rng(16)
    walks = np.cumsum(rng.normal(0, 1, (1000, 26)), axis=1)
    covered = coverage(walks[:, :20], walks[:, 20:], 6, season_length=0)
    assert covered[80.0].mean() >= 0.71, covered[80.0]
    assert covered[95.0].mean() >= 0.85, covered[95.0]
    # ...while 20 points of noise keep intervals of the nominal width.
    noise = rng.normal(0, 1, (1000, 26))
    covered = coverage(noise[:, :20], noise[:, 20:], 6, season_length=0)
    assert 0.76 <= covered[80.0].mean() <= 0.84, covered[80.0]
    assert 0.93 <= covered[95.0].mean() <= 0.97, covered[95.0]
