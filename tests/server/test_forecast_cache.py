import numpy as np

from infracast.server.answers.forecast_cache import ForecastCache
from infracast.server.forecast.engine import forecast_samples

STEP = 60_000


def series(points: int):
    rng = np.random.default_rng(0)
    times = np.arange(points, dtype=np.int64) * STEP
    return times, 50 + np.cumsum(rng.normal(0, 1, points))


def ask(cache, times, values, calls):
    def compute(refresh):
        calls.append(refresh)
        return forecast_samples(times, values, 3_600_000, refresh=refresh)

    return cache.get_or_compute(("node_load1", 3_600_000), "node_load1", times, compute)


def test_repeats_are_free_new_samples_refresh_and_much_new_history_refits():
    cache, calls = ForecastCache(), []
    times, values = series(2000)
    first = ask(cache, times[:1000], values[:1000], calls)
    again = ask(cache, times[:1000], values[:1000], calls)
    assert again is first and len(calls) == 1 and calls[0] is None
    ask(cache, times[:1010], values[:1010], calls)  # 10 new minutes: reuse the fit
    assert calls[1] is not None and (calls[1] == first.forecast.fit).all()
    ask(cache, times[:1500], values[:1500], calls)  # half again as much history: choose anew
    assert calls[2] is None
    assert (cache.stats.answer_hits, cache.stats.refreshes, cache.stats.refits) == (1, 1, 2)


def test_answers_are_bounded():
    cache, calls = ForecastCache(max_answers=3), []
    times, values = series(400)
    for end in range(300, 310):
        ask(cache, times[:end], values[:end], calls)
    assert len(cache._answers) == 3
