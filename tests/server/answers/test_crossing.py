"""Crossings and their probabilities on scenarios whose truth is known."""

import numpy as np

from infracast.server.answers.crossing import find_crossing
from infracast.server.answers.limits import Limits
from infracast.server.answers.outlook import outlook_of_samples

SECOND = 1000
STEP = 300_000
HOUR = 3_600_000
DAY = 24 * HOUR
BYTES = Limits(0.0, np.inf, "bytes")


def test_a_fast_fill_at_1s_is_found_with_the_default_horizon_and_called_near_certain():
    """300 MB filling at 1 MiB/s, half an hour of 1 s history, full in 20 minutes: the default
    7-day question finds it, with a probability near 1 (not 0 %, not the 50 % of a clipped median)."""
    rng = np.random.default_rng(11)
    times = 1_700_000_000_000 + np.arange(1800) * SECOND
    rate = 1024 * 1024
    avail = rate * (3000 - np.arange(1800)) + rng.normal(0, 50_000, 1800)  # zero at 3000 s
    outlook = outlook_of_samples(times, avail, 7 * DAY, (80.0,), BYTES)
    crossing = find_crossing(outlook, 0.0, rising=False, level=80.0)
    minutes = (crossing.expected_ms - times[-1]) / 60_000
    assert abs(minutes - 20.0) < 0.5
    assert crossing.probability > 0.95
    assert outlook.mean.min() >= 0.0 and outlook.limits_applied


def test_a_crossing_five_days_away_on_a_10s_series_is_found():
    rng = np.random.default_rng(12)
    n = 2 * DAY // (10 * SECOND)
    times = np.arange(n) * 10 * SECOND
    slope = 1e9 / (7 * DAY)  # empty 7 days after the first sample: 5 days after the last
    avail = 1e9 - slope * times + rng.normal(0, 1e6, n)
    crossing = find_crossing(outlook_of_samples(times, avail, 7 * DAY, (80.0,), BYTES), 0.0, False, 80.0)
    days = (crossing.expected_ms - times[-1]) / DAY
    assert abs(days - 5.0) < 0.1
    assert crossing.probability > 0.9


def test_a_flat_series_is_not_called_at_risk():
    rng = np.random.default_rng(13)
    times = np.arange(2016) * STEP
    flat = outlook_of_samples(times, 5e8 + rng.normal(0, 1e6, 2016), 7 * DAY, (80.0,), BYTES)
    crossing = find_crossing(flat, 0.0, rising=False, level=80.0)
    assert crossing.expected_ms is None and crossing.probability < 0.01


def test_threshold_time_agrees_with_the_forecast():
    timestamps = np.arange(0, 3_600_000, 60_000, dtype=np.int64)
    values = 1000.0 - 0.5 * timestamps / 60_000  # falls 0.5 per minute from 1000
    outlook = outlook_of_samples(timestamps, values, 4 * HOUR)
    crossing = find_crossing(outlook, 900.0, rising=False, level=80.0)
    expected = timestamps[-1] + 141 * 60_000  # 970.5 at the last sample: 70.5 / 0.5 minutes more
    assert abs(crossing.expected_ms - expected) <= 60_000
    assert crossing.earliest_ms <= crossing.expected_ms
    assert crossing.latest_ms is None or crossing.latest_ms >= crossing.expected_ms
    assert not crossing.already_crossed


def test_already_past_the_threshold():
    timestamps = np.arange(0, 600_000, 60_000, dtype=np.int64)
    outlook = outlook_of_samples(timestamps, np.full(10, 5.0), 30 * 60_000)
    crossing = find_crossing(outlook, 4.0, rising=True, level=80.0)
    assert crossing.already_crossed and crossing.expected_ms == timestamps[-1]
    assert crossing.probability == 1.0
    crossing = find_crossing(outlook, 6.0, rising=True, level=80.0)
    assert crossing.expected_ms is None and not crossing.already_crossed


def bursty_disk(hours: float, rng, size: float = 1e12) -> tuple[np.ndarray, np.ndarray]:
    """A disk filling at 1 GB/h from 400 GB used, with write bursts and a clean-up every 10 hours."""
    steps = int(hours * 12)
    t = np.arange(steps)
    used = 400e9 + 1e9 * t / 12 + rng.normal(0, 0.05e9, steps)
    used += np.where(rng.random(steps) < 0.01, rng.uniform(5e9, 20e9, steps), 0).cumsum() * 0.2
    used -= (t // 120) * 3e9  # periodic clean-ups
    return t * STEP, size - used


def predict_linear_eta(times, avail, now_index):
    window = slice(max(0, now_index - 72), now_index + 1)
    slope, intercept = np.polyfit(times[window] / 1000, avail[window], 1)
    if slope >= 0:
        return np.inf
    return (-intercept / slope) - times[now_index] / 1000


def test_time_to_full_does_not_flap_with_bursts_and_cleanups():
    """Where predict_linear over 6 h swings with every burst and clean-up, ours stays steady.

    A 550 GB disk, so the crossing (4-6 days out) is within what 2-3 days of history can see."""
    rng = np.random.default_rng(2)
    times, avail = bursty_disk(72, rng, size=550e9)
    ours, theirs, etas = [], [], []
    for now in range(600, len(times), 12):  # re-evaluate every hour for the last 22 hours
        outlook = outlook_of_samples(times[:now + 1], avail[:now + 1], 30 * DAY, (80.0,), BYTES)
        crossing = find_crossing(outlook, 0.0, rising=False, level=80.0)
        assert crossing.expected_ms is not None
        ours.append(crossing.expected_ms / HOUR)  # when the disk is full, as predicted at `now`
        etas.append((crossing.expected_ms - times[now]) / HOUR)
        theirs.append(times[now] / HOUR + predict_linear_eta(times, avail, now) / 3600)
    ours, theirs = np.array(ours), np.array(theirs)
    # How much the predicted moment of "full" moves between hourly evaluations, relative to
    # how far away it is.
    spread = lambda moments: np.std(moments[np.isfinite(moments)]) / np.median(etas)  # noqa: E731
    assert spread(ours) < 0.1
    assert spread(ours) < spread(theirs) / 2 or not np.isfinite(theirs).all()


def test_a_level_step_is_not_read_as_a_trend():
    """A big file written 1-5 hours ago, then flat: not 'full tomorrow'; the answer says why."""
    rng = np.random.default_rng(5)
    size = 50 * 2.0**30
    for _ in range(4):
        n = 6 * 360 + 1
        times = np.arange(n) * 10 * SECOND
        step_at = n - 1 - rng.integers(360, 1800)
        drop = np.where(np.arange(n) >= step_at, rng.uniform(0.1, 0.25) * size, 0)
        avail = rng.uniform(0.3, 0.9) * size - drop + rng.normal(0, 0.002 * size, n)
        outlook = outlook_of_samples(times, avail, 7 * DAY, (80.0,), Limits(0.0, size, "size"))
        crossing = find_crossing(outlook, 0.0, rising=False, level=80.0)
        assert crossing.expected_ms is None and crossing.probability < 0.05
        assert "level shift" in outlook.model.reason


def test_a_steady_fill_is_not_mistaken_for_a_level_shift():
    times = np.arange(2000) * 10 * SECOND
    avail = 1e9 - 1e3 * np.arange(2000) + np.random.default_rng(6).normal(0, 1e4, 2000)
    outlook = outlook_of_samples(times, avail, DAY, (80.0,), BYTES)
    assert "level shift" not in outlook.model.reason
