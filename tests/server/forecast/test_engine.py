import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from infracast.server.forecast.engine import forecast_samples, forecast_values
from infracast.server.forecast.grid import counter_rate, to_grid


def test_exact_linear_trend_is_continued():
    y = 5.0 + 2.0 * np.arange(200)
    f = forecast_values(y, 10)
    np.testing.assert_allclose(f.mean, 5.0 + 2.0 * np.arange(200, 210), rtol=1e-6)
    assert f.model.parameters["trend_per_step"] == pytest.approx(2.0)
    assert f.model.backtest_mae == pytest.approx(0.0, abs=1e-6)


def test_short_history_falls_back_to_a_line_and_says_why():
    f = forecast_values(np.array([1.0, 2.0, 3.0, 4.0]), 3)
    assert f.model.name == "linear_trend"
    assert "only 4 points" in f.model.reason
    np.testing.assert_allclose(f.mean, [5.0, 6.0, 7.0])


def test_constant_series_forecasts_the_constant_with_no_spread():
    f = forecast_values(np.full(100, 7.5), 24)
    np.testing.assert_allclose(f.mean, 7.5)
    np.testing.assert_allclose(f.upper[95.0] - f.lower[95.0], 0.0, atol=1e-9)


def test_single_value_is_forecast_flat():
    f = forecast_values(np.array([3.0]), 5)
    np.testing.assert_allclose(f.mean, 3.0)


def test_nan_values_are_gaps_not_garbage():
    y = np.arange(100.0)
    y[[10, 11, 50]] = np.nan
    f = forecast_values(y, 5)
    assert np.isfinite(f.mean).all()
    np.testing.assert_allclose(f.mean, np.arange(100.0, 105.0), rtol=1e-3)


def test_intervals_widen_with_the_horizon_and_nest():
    rng = np.random.default_rng(1)
    y = np.cumsum(rng.normal(size=300))
    f = forecast_values(y, 30, levels=[50, 80, 95])
    for narrow, wide in ((50, 80), (80, 95)):
        assert (f.lower[wide] <= f.lower[narrow]).all()
        assert (f.upper[narrow] <= f.upper[wide]).all()
    width = f.upper[95] - f.lower[95]
    assert (np.diff(width) >= -1e-9).all()
    assert width[-1] > width[0]


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.integers(1, 400),
           elements=st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)),
    st.integers(1, 50),
)
def test_never_nan_on_finite_input(values, horizon):
    f = forecast_values(values, horizon)
    assert f.mean.shape == (horizon,)
    for level in f.lower:
        assert np.isfinite(f.lower[level]).all() and np.isfinite(f.upper[level]).all()
        assert (f.lower[level] <= f.mean + 1e-6 * (1 + abs(f.mean))).all()
    assert np.isfinite(f.mean).all()


def test_irregular_samples_are_put_on_a_regular_grid():
    timestamps = np.array([0, 10_000, 20_000, 50_000, 60_000], dtype=np.int64)
    grid = to_grid(timestamps, np.array([0.0, 1.0, 2.0, 5.0, 6.0]), 10_000, 100)
    assert grid.timestamps_ms.tolist() == [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000]
    np.testing.assert_allclose(grid.values, [0, 1, 2, 3, 4, 5, 6])
    assert grid.filled == 2


def test_counter_rate_survives_a_reset():
    timestamps = np.array([0, 10_000, 20_000, 30_000], dtype=np.int64)
    _, rate = counter_rate(timestamps, np.array([100.0, 200.0, 50.0, 150.0]))
    np.testing.assert_allclose(rate, [10.0, 5.0, 10.0])


def test_counters_are_forecast_as_rates():
    timestamps = np.arange(0, 600_000, 10_000, dtype=np.int64)
    result = forecast_samples(timestamps, 1000.0 + 3.0 * timestamps / 1000, 60_000, is_counter=True)
    np.testing.assert_allclose(result.forecast.mean, 3.0, rtol=1e-6)
    assert result.rate_of_counter


def test_short_noisy_history_without_a_trend_is_not_extrapolated():
    y = np.array([0.05, 0.02, 0.07, 0.03, 0.06, 0.02, 0.08, 0.04])
    f = forecast_values(y, 720)
    assert f.model.name == "mean" and "no significant trend" in f.model.reason
    np.testing.assert_allclose(f.mean, y.mean())


def test_two_points_carry_the_last_value_forward():
    f = forecast_values(np.array([1.0, 2.0]), 5)
    assert f.model.name == "naive"
    np.testing.assert_allclose(f.mean, 2.0)


def test_a_daily_pattern_is_detected_and_continued():
    rng = np.random.default_rng(3)
    t = np.arange(288 * 6)
    y = 50 + 20 * np.sin(2 * np.pi * t / 288) + rng.normal(0, 1, len(t))
    f = forecast_values(y, 72, season_length=288)
    assert f.model.season_length == 288 and "repeatability" in f.model.reason
    future = np.arange(len(t), len(t) + 72)
    truth = 50 + 20 * np.sin(2 * np.pi * future / 288)
    assert np.mean(np.abs(f.mean - truth)) < 1.5
    assert f.model.backtest_mase < 1.0


def test_the_period_is_found_when_not_given():
    rng = np.random.default_rng(4)
    t = np.arange(24 * 20)
    y = 10 + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.5, len(t))
    f = forecast_values(y, 24)
    assert f.model.season_length == 24


def test_noise_is_not_mistaken_for_a_season():
    rng = np.random.default_rng(5)
    f = forecast_values(rng.normal(10, 1, 288 * 5), 12, season_length=288)
    assert f.model.season_length == 0 and "not used" in f.model.reason


def test_intervals_are_calibrated_on_heavy_tailed_noise():
    # Student-t noise around a random walk: Gaussian formulas would be wrong here.
    rng = np.random.default_rng(6)
    hits = {80.0: [], 95.0: []}
    for _ in range(40):
        y = np.cumsum(rng.normal(0, 0.2, 1200)) + rng.standard_t(3, 1200)
        f = forecast_values(y[:1188], 12, season_length=0)
        for level in hits:
            hits[level].append(np.mean((y[1188:] >= f.lower[level]) & (y[1188:] <= f.upper[level])))
    assert abs(np.mean(hits[80.0]) - 0.80) < 0.07
    assert abs(np.mean(hits[95.0]) - 0.95) < 0.04


def test_exceedance_probability_is_consistent_with_the_bounds():
    rng = np.random.default_rng(8)
    f = forecast_values(rng.normal(100, 5, 500), 10, season_length=0, levels=[80])
    upper = f.upper[80.0][-1]
    assert f.exceedance(upper, rising=True)[-1] == pytest.approx(0.10, abs=0.02)
    assert f.exceedance(f.mean[-1] - 1000, rising=True)[-1] == 1.0


def test_a_batch_gives_the_same_answers_as_one_series_at_a_time():
    from infracast.server.forecast.engine import forecast_batch

    rng = np.random.default_rng(9)
    rows = np.cumsum(rng.normal(size=(6, 400)), axis=1)
    rows[2] = 5.0  # a constant row among them
    batch = forecast_batch(rows, 12, season_length=0, levels=[80])
    for i, row in enumerate(rows):
        single = forecast_values(row, 12, season_length=0, levels=[80])
        np.testing.assert_allclose(batch.mean[i], single.mean)
        np.testing.assert_allclose(batch.lower[80.0][i], single.lower[80.0])
        assert batch.models[i] == single.model.name
