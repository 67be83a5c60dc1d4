"""Values shaped like a node agent's series, for the store benchmarks.

`nab` replays real recorded series (shared/data/nab: AWS CloudWatch CPU and network, at
their own 5-minute cadence, values as recorded, float noise included); the others follow
what node_exporter-style collectors report: byte and packet counters (integers), CPU
seconds (USER_HZ ticks, hundredths), memory in pages (multiples of 4096), load averages
(two decimals), constants (sizes, limits, flags), and `ratio`, a value computed in
floating point (a fraction with no short decimal form) as some exporters send.
`random` is uniform noise: incompressible, the worst case.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nab import load_series

AGENT_KINDS = ("byte_counter", "cpu_seconds", "memory_bytes", "load", "constant", "ratio")
NODE_KINDS = ("nab", *AGENT_KINDS)
ALL_KINDS = (*NODE_KINDS, "random")
MIXES = {"node": NODE_KINDS, "agent": AGENT_KINDS}  # several kinds, spread evenly over the series

_nab: list[np.ndarray] = []


def values(kind: str, count: int, rng: np.random.Generator, series: int = 0) -> np.ndarray:
    """`count` consecutive values of a series of this kind (the series index picks which
    recorded series and where in it, for nab)."""
    if kind == "nab":
        if not _nab:
            _nab.extend(v for _, v in load_series().values())
        recorded = _nab[series % len(_nab)]
        start = (series * 997) % len(recorded)
        return np.resize(np.roll(recorded, -start), count)
    if kind == "byte_counter":
        return 1e9 + np.cumsum(rng.poisson(200_000, count)).astype(float)
    if kind == "cpu_seconds":
        return (10_000_000 + np.cumsum(rng.poisson(300, count))) / 100
    if kind == "memory_bytes":
        return 4096.0 * (2_000_000 + np.cumsum(rng.integers(-50, 51, count)))
    if kind == "load":
        return np.round(np.abs(1.5 + np.cumsum(rng.normal(0, 0.02, count))), 2)
    if kind == "constant":
        return np.full(count, 53_687_091_200.0)
    if kind == "ratio":
        return (2_000_000 + np.cumsum(rng.integers(-50, 51, count))) / 8_000_000
    if kind == "random":
        return rng.random(count)
    raise ValueError(f"unknown kind {kind!r}; one of {', '.join(ALL_KINDS)}")
