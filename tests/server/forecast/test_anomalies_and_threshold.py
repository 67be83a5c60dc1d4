import numpy as np

from infracast.server.forecast.engine import forecast_samples
from infracast.server.forecast.threshold import time_to_threshold

STEP = 300_000


def bursty_disk(hours: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """A 1 TB disk filling at 1 GB/h with write bursts and a clean-up every 10 hours."""
    steps = int(hours * 12)
    t = np.arange(steps)
    used = 400e9 + 1e9 * t / 12 + rng.normal(0, 0.05e9, steps)
    used += np.where(rng.random(steps) < 0.01, rng.uniform(5e9, 20e9, steps), 0).cumsum() * 0.2
    used -= (t // 120) * 3e9  # periodic clean-ups
    return t * STEP, 1e12 - used


def predict_linear_eta(times, avail, now_index):
    window = slice(max(0, now_index - 72), now_index + 1)
    slope, intercept = np.polyfit(times[window] / 1000, avail[window], 1)
    if slope >= 0:
        return np.inf
    return (-intercept / slope) - times[now_index] / 1000


def test_time_to_full_does_not_flap_with_bursts_and_cleanups():
    """Where predict_linear over 6 h swings with every burst and clean-up, ours stays steady."""
    rng = np.random.default_rng(2)
    times, avail = bursty_disk(72, rng)
    ours, theirs = [], []
    for now in range(600, len(times), 12):  # re-evaluate every hour for the last 22 hours
        result = forecast_samples(times[:now + 1], avail[:now + 1], 30 * 86_400_000,
                                  value_range=(0.0, np.inf))
        crossing = time_to_threshold(result, 0.0, rising=False, level=80.0)
        assert crossing.expected_ms is not None
        ours.append((crossing.expected_ms - result.last_timestamp_ms) / 3_600_000)
        theirs.append(predict_linear_eta(times, avail, now) / 3600)
    ours, theirs = np.array(ours), np.array(theirs)
    spread = lambda hours: np.std(hours[np.isfinite(hours)]) / np.median(hours[np.isfinite(hours)])  # noqa: E731
    assert spread(ours) < 0.1
    assert spread(ours) < spread(theirs) / 2 or not np.isfinite(theirs).all()


def test_threshold_probability_is_high_for_a_steady_fill_and_low_for_a_flat_series():
    times = np.arange(0, 2016) * STEP
    rng = np.random.default_rng(3)
    filling = forecast_samples(times, 1e9 - 3e5 * np.arange(2016) + rng.normal(0, 1e4, 2016),
                               7 * 86_400_000)
    assert time_to_threshold(filling, 0.0, rising=False, level=80.0).probability > 0.9
    flat = forecast_samples(times, 1e9 + rng.normal(0, 1e4, 2016), 7 * 86_400_000)
    assert time_to_threshold(flat, 0.0, rising=False, level=80.0).probability < 0.01
