"""The value axis in the metric's own unit: bytes in KiB…TiB, ratios in %, seconds as durations.

The unit comes from the metric name, as node_exporter names them (_bytes, _ratio,
_seconds; _total counters are forecast as per-second rates of their unit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_BINARY = (("B", 1.0), ("KiB", 1024.0), ("MiB", 1024.0**2), ("GiB", 1024.0**3), ("TiB", 1024.0**4),
           ("PiB", 1024.0**5))
_DURATIONS = (("s", 1.0), ("min", 60.0), ("h", 3600.0), ("days", 86400.0))


@dataclass(frozen=True)
class ValueAxis:
    """Plotted value = raw value / divisor, labelled `label`."""

    label: str
    divisor: float

    def scale(self, values) -> np.ndarray:
        return np.asarray(values, dtype=float) / self.divisor


def _largest_fitting(units, magnitude: float) -> tuple[str, float]:
    chosen = units[0]
    for unit in units:
        if magnitude >= unit[1]:
            chosen = unit
    return chosen


def value_axis(metric: str, values) -> ValueAxis:
    """The unit and scale for a metric whose plotted values are `values` (raw)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    magnitude = float(np.abs(finite).max()) if finite.size else 0.0
    rate = metric.endswith("_total")
    base = metric.removesuffix("_total")
    per = "/s" if rate else ""
    if base.endswith("_bytes"):
        unit, size = _largest_fitting(_BINARY, magnitude)
        return ValueAxis(f"{unit}{per}", size)
    if base.endswith("_ratio"):
        return ValueAxis(f"%{per}", 0.01)
    if base.endswith("_seconds"):
        unit, size = _largest_fitting(_DURATIONS, magnitude)
        # A counter of seconds (CPU time) per second is a share of one core, not a duration.
        return ValueAxis("seconds/s (cores)" if rate else unit, 1.0 if rate else size)
    return ValueAxis(f"{base.rsplit('_', 1)[-1] if '_' in base else 'value'}{per}", 1.0)
