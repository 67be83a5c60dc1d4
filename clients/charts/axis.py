"""The value axis in the metric's own unit: bytes in KiB…TiB, ratios in %, seconds as durations.

The unit is the one the metric's sender declared, else its name's (clients/units.py); a
counter, as the answer says (rate_of_counter), is plotted as a per-second rate of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infracast.clients.units import base_unit

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


def value_axis(metric: str, values, counter_rate: bool, unit: str = "") -> ValueAxis:
    """The unit and scale for a metric whose plotted values are `values` (raw): in `unit`
    (the declared one, else the name's), per second when `counter_rate` (the answer's
    rate_of_counter)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    magnitude = float(np.abs(finite).max()) if finite.size else 0.0
    per = "/s" if counter_rate else ""
    unit = base_unit(metric, unit)
    if unit == "bytes":
        name, size = _largest_fitting(_BINARY, magnitude)
        return ValueAxis(f"{name}{per}", size)
    if unit == "ratio":
        return ValueAxis(f"%{per}", 0.01)
    if unit == "seconds":
        name, size = _largest_fitting(_DURATIONS, magnitude)
        # A counter of seconds (CPU time) per second is a share of one core, not a duration.
        return ValueAxis("seconds/s (cores)" if counter_rate else name, 1.0 if counter_rate else size)
    if unit:
        return ValueAxis(f"{unit}{per}", 1.0)
    base = metric.removesuffix("_total")
    return ValueAxis(f"{base.rsplit('_', 1)[-1] if '_' in base else 'value'}{per}", 1.0)
