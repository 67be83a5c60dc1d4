"""The calibration level is corrected by how past quantiles covered later errors."""

import numpy as np
import pytest

from infracast.server.forecast.backtest_kernels import honest_level as level_of_halves
from infracast.server.forecast.backtest_kernels import merge_sorted
from infracast.server.forecast.engine import forecast_values


def honest_level(newest_first, p):
    """The kernel on errors listed newest first, as panel_error_quantiles splits them."""
    half = len(newest_first) // 2
    return level_of_halves(np.sort(newest_first[:half]), np.sort(newest_first[half:]), p)


def test_exchangeable_errors_keep_the_nominal_level():
    errors = np.random.default_rng(3).normal(0, 1, 4000)
    for p in (0.025, 0.1, 0.9, 0.975):
        assert abs(honest_level(errors, p) - p) < 0.01


def test_errors_that_grow_take_a_wider_level_and_errors_that_shrink_a_narrower_one():
    rng = np.random.default_rng(4)
    older, newer = rng.normal(0, 1, 2000), rng.normal(0, 1.5, 2000)
    growing = np.concatenate([newer, older])  # newest first
    shrinking = np.concatenate([older, newer])
    assert honest_level(growing, 0.975) > 0.98
    assert honest_level(growing, 0.025) < 0.02
    assert honest_level(shrinking, 0.975) < 0.97
    assert honest_level(shrinking, 0.025) > 0.03


def test_the_correction_is_at_most_half_the_nominal_tail():
    errors = np.concatenate([np.full(1000, 100.0), np.zeros(1000)])
    assert honest_level(errors, 0.975) == pytest.approx(0.9875)
    assert honest_level(-errors, 0.025) == pytest.approx(0.0125)


def test_errors_with_tails_heavier_lately_are_covered_at_95_percent():
    # Same mean absolute error throughout (the local error scale cannot see the change),
    # heavier tails in the recent half: the pooled quantile of all calibration errors
    # covered about 92 % of the next values before the level correction.
    rng = np.random.default_rng(7)
    hits, count = 0, 0
    for _ in range(150):
        calm = rng.normal(0, 1.0, 1200)
        wild = rng.standard_t(2.5, 1206)
        wild *= np.mean(np.abs(calm)) / np.mean(np.abs(wild))
        y = 50 + np.concatenate([calm, wild])
        f = forecast_values(y[:2400], 6, season_length=0)
        hits += np.sum((y[2400:] >= f.lower[95.0]) & (y[2400:] <= f.upper[95.0]))
        count += 6
    assert hits / count >= 0.935, hits / count


def test_merging_two_sorted_halves_equals_sorting_them_together():
    rng = np.random.default_rng(5)
    for left, right in ((0, 3), (3, 0), (5, 7), (100, 101)):
        a, b = np.sort(rng.normal(size=left)), np.sort(rng.normal(size=right))
        assert np.array_equal(merge_sorted(a, b), np.sort(np.concatenate([a, b])))
