"""Which grid steps answer a question: fine near now, coarser further out, never past the reach.

A single grid sized for the horizon (a 7-day horizon forced ~14-minute steps) throws
away recent history: half an hour of 1 s samples became two points and a disk filling
in 20 minutes went unseen. Instead the horizon is cut into tiers. The first tier uses
the series' own recent sampling interval; each next tier a step FACTOR times coarser,
each fitted on its own grid of the newest history at that step, and each answering
only the stretch beyond the previous tier.

Reach: no forecast is trusted further ahead than REACH_FACTOR times the history it
comes from (node-mixin's disk alerts look 4x ahead of their 6 h window; a 90-second
trend says nothing about the next 6 hours).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from infracast.server.forecast.engine import NICE_STEPS_MS

REACH_FACTOR = 5
TIER_POINTS = 360  # forecast points a tier answers for, at most, before a coarser one takes over
FACTOR = 6  # each tier's step is at least this many times the previous one
MIN_TIER_HISTORY = 60  # a coarser tier needs this many grid points of history, else the finer one goes on
MAX_TIER_POINTS = 1440  # how far the last tier may stretch, in its own steps
MIN_SAMPLES = 8  # fewer samples than this are not a history to forecast from
RECENT_SAMPLES = 64  # the native interval is read from the newest samples (older ones may be 5-minute means)


@dataclass(frozen=True)
class Tier:
    step_ms: int
    until_ms: int  # this tier answers for lead times in (previous tier's until_ms, until_ms]


@dataclass(frozen=True)
class Plan:
    tiers: tuple[Tier, ...]
    span_ms: int
    reach_ms: int  # how far the history lets the answer see
    horizon_ms: int  # what was asked
    sample_interval_ms: int = 1000  # the series' own sampling interval now

    @property
    def searched_ms(self) -> int:
        """How far ahead the answer actually looks: the horizon, or less if the reach is shorter."""
        return self.tiers[-1].until_ms

    @property
    def reach_limited(self) -> bool:
        return self.searched_ms < self.horizon_ms


def nice_step(wanted_ms: float) -> int:
    """The smallest step dividing a day that is at least wanted_ms (whole hours beyond)."""
    for nice in NICE_STEPS_MS:
        if nice >= wanted_ms:
            return nice
    return int(math.ceil(wanted_ms / 3_600_000) * 3_600_000)


def recent_step_ms(timestamps_ms: np.ndarray) -> int:
    """The series' sampling interval now: the median spacing of its newest samples."""
    recent = timestamps_ms[-RECENT_SAMPLES:]
    if len(recent) < 2:
        return 1000
    return max(int(np.median(np.diff(recent))), 1)


def reach_ms(span_ms: int) -> int:
    return REACH_FACTOR * max(span_ms, 0)


def plan(timestamps_ms: np.ndarray, horizon_ms: int) -> Plan:
    """The tiers answering `horizon_ms` ahead of samples at timestamps_ms (sorted, >= MIN_SAMPLES)."""
    span = int(timestamps_ms[-1] - timestamps_ms[0])
    reach = reach_ms(span)
    wanted = min(horizon_ms, reach)
    interval = recent_step_ms(timestamps_ms)
    step = nice_step(interval)
    tiers: list[Tier] = []
    covered = 0
    while covered < wanted:
        coarser = nice_step(FACTOR * step)
        if span / coarser < MIN_TIER_HISTORY:
            # No coarser grid has enough history: this step carries on as far as it may.
            tiers.append(Tier(step, max(covered + step, min(wanted, MAX_TIER_POINTS * step))))
            break
        end = max(min(wanted, TIER_POINTS * step), covered + step)  # at least one point of its own
        if end > covered:
            tiers.append(Tier(step, end))
            covered = end
        step = coarser
    if not tiers:  # the reach is shorter than one step: one step is still answered
        tiers.append(Tier(step, step))
    return Plan(tuple(tiers), span, reach, horizon_ms, interval)
