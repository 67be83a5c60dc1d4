import math

import numpy as np
import pytest

from infracast.server.answers.aggregate import AggregationError, Samples, aggregate, aggregate_limits
from infracast.server.answers.limits import Limits


def test_series_are_combined_on_their_common_time():
    a = Samples(np.arange(0, 100_000, 10_000), np.full(10, 1.0))
    b = Samples(np.arange(50_000, 150_000, 10_000), np.full(10, 2.0))
    total = aggregate([a, b], "sum", counters=False)
    assert total.timestamps_ms[0] >= 50_000 and total.timestamps_ms[-1] == 90_000
    np.testing.assert_allclose(total.values, 3.0)
    np.testing.assert_allclose(aggregate([a, b], "max", counters=False).values, 2.0)


def test_counters_are_summed_as_rates():
    times = np.arange(0, 100_000, 10_000)
    a = Samples(times, 5.0 * times / 1000)  # 5 per second
    b = Samples(times, 1e6 + 2.0 * times / 1000)  # 2 per second from a high start
    np.testing.assert_allclose(aggregate([a, b], "sum", counters=True).values, 7.0)


def test_series_without_common_time_are_refused():
    a = Samples(np.array([0, 10_000]), np.ones(2))
    b = Samples(np.array([50_000, 60_000]), np.ones(2))
    with pytest.raises(AggregationError, match="common"):
        aggregate([a, b], "sum", counters=False)


def test_limits_of_a_sum_are_the_sums_of_the_limits():
    limits = aggregate_limits([Limits(0, 10, "a"), Limits(0, 30, "b")], "sum")
    assert (limits.lower, limits.upper) == (0, 40)
    assert aggregate_limits([Limits(0, 10), Limits(0, math.inf)], "sum").upper == math.inf
