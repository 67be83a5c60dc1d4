import numpy as np

from infracast.server.forecast.anomalies import robust_scores
from infracast.server.forecast.engine import forecast_values


def test_a_spike_is_flagged_and_ordinary_noise_is_not():
    rng = np.random.default_rng(1)
    y = 20 + rng.normal(0, 1, 600)
    y[590] += 15
    f = forecast_values(y, 1, season_length=0)
    scores = robust_scores(y, f.residuals, 60, 4.0)
    assert scores.anomalous[50] and scores.score[50] > 8
    assert scores.anomalous.sum() <= 2  # the spike (and at most the step after it)
    np.testing.assert_allclose(scores.values, y[-60:])

