import numpy as np

from infracast.server.answers.resolution import REACH_FACTOR, nice_step, plan

SECOND = 1000
HOUR = 3_600_000
DAY = 24 * HOUR


def test_near_steps_follow_the_data_not_the_horizon():
    """Half an hour of 1 s samples asked 7 days ahead: the first tier is still 1 s."""
    times = np.arange(1800) * SECOND
    p = plan(times, 7 * DAY)
    assert p.tiers[0].step_ms == SECOND
    steps = [tier.step_ms for tier in p.tiers]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    ends = [tier.until_ms for tier in p.tiers]
    assert ends == sorted(ends)


def test_the_reach_limits_how_far_a_short_history_looks():
    times = np.arange(1800) * SECOND  # 30 minutes
    p = plan(times, 7 * DAY)
    assert p.reach_limited
    assert p.searched_ms <= REACH_FACTOR * p.span_ms
    assert p.searched_ms >= 2 * HOUR  # still well beyond a 20-minute crossing


def test_a_long_history_sees_the_whole_horizon():
    times = np.arange(0, 2 * DAY, 10 * SECOND)
    p = plan(times, 7 * DAY)
    assert not p.reach_limited and p.searched_ms == 7 * DAY
    assert p.tiers[0].step_ms == 10 * SECOND


def test_the_native_step_is_read_from_recent_samples():
    """Old history kept as 5-minute means does not coarsen the near steps of 10 s raw data."""
    old = np.arange(0, 5 * DAY, 300 * SECOND)
    recent = np.arange(5 * DAY, 5 * DAY + 6 * HOUR, 10 * SECOND)
    p = plan(np.concatenate([old, recent]), DAY)
    assert p.tiers[0].step_ms == 10 * SECOND


def test_nice_steps_divide_a_day():
    for wanted in (1, 999, 1001, 7_000, 45_000, 1_000_000, 3 * HOUR):
        step = nice_step(wanted)
        assert step >= wanted and DAY % step == 0
