import numpy as np

from infracast.server.answers.crossing import find_crossing
from infracast.server.answers.noise import transient_noise_sd
from infracast.server.answers.outlook import outlook_of_samples


def test_noise_is_told_apart_from_a_wandering_level():
    rng = np.random.default_rng(1)
    assert abs(transient_noise_sd(5 + rng.normal(0, 2, 5000)) - 2) < 0.15
    assert transient_noise_sd(np.cumsum(rng.normal(0, 2, 5000))) < 0.5
    assert transient_noise_sd(np.linspace(0, 100, 5000) + rng.normal(0, 1, 5000)) > 0.9


def test_a_noisy_series_near_a_threshold_is_likely_to_touch_it():
    """Every sample is another draw of the noise: touching 0.85 from 0.75 +- 0.04 over an hour
    of 10 s samples is likely, though no single point's forecast is; the answer says so, and
    the outcomes of many such series agree with the probabilities given."""
    rng = np.random.default_rng(2)
    given, happened = [], []
    for _ in range(40):
        times = np.arange(1080) * 10_000
        sd = rng.uniform(0.01, 0.04)
        y = 0.7 + rng.uniform(0, 0.1) + rng.normal(0, sd, 1080)
        outlook = outlook_of_samples(times[:720], y[:720], 3_600_000, (80.0,))
        crossing = find_crossing(outlook, 0.85, rising=True, level=80.0)
        assert crossing.probability >= outlook.exceedance(0.85, rising=True).max()
        given.append(crossing.probability)
        within = times[720:] - times[719] <= outlook.plan.searched_ms
        happened.append(bool((y[720:][within] >= 0.85).any()))
    given, happened = np.array(given), np.array(happened)
    assert np.mean((given - happened) ** 2) < 0.5 * np.mean((happened.mean() - happened) ** 2)
    assert abs(given.mean() - happened.mean()) < 0.15


def test_the_expected_crossing_is_the_first_touch_of_a_noisy_series():
    """A leak with noisy samples touches the threshold before its mean does: the answer's
    expected time is the median first touch, close to what the series then does."""
    rng = np.random.default_rng(3)
    errors = []
    for _ in range(10):
        times = np.arange(2160 + 8640) * 10_000
        leak = rng.uniform(0.3, 1.0) / 3_600_000
        values = 10.0 - leak * times + rng.normal(0, 0.3, len(times))
        outlook = outlook_of_samples(times[:2160], values[:2160], 86_400_000, (80.0,))
        crossing = find_crossing(outlook, 1.0, rising=False, level=80.0)
        assert crossing.earliest_ms <= crossing.expected_ms <= (crossing.latest_ms or np.inf)
        first_touch = times[2160:][values[2160:] <= 1.0][0]
        errors.append(abs(crossing.expected_ms - first_touch) / (first_touch - times[2159]))
    assert np.median(errors) < 0.1, errors
