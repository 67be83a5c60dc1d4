"""Format values for people according to the unit in the metric name."""

from __future__ import annotations

import math

_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def format_bytes(value: float) -> str:
    magnitude = abs(value)
    for unit in _BINARY:
        if magnitude < 1024 or unit == _BINARY[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
        magnitude /= 1024
    raise AssertionError("unreachable")


def format_value(metric: str, value: float, counter_rate: bool | None = None, unit: str = "") -> str:
    """The value in the metric's unit: the declared `unit` when known, else the name's
    suffix. `counter_rate` says whether the value is a counter's per-second rate ("/s"):
    pass the answer's rate_of_counter where there is one (a declared type beats the name),
    False for a counter's raw value; None goes by the _total suffix."""
    if not math.isfinite(value):
        return str(value)
    if counter_rate is None:
        counter_rate = metric.endswith("_total")
    name = metric.removesuffix("_total")
    if unit == "bytes" or (not unit and name.endswith("_bytes")):
        raw = format_bytes(value)
    elif unit == "ratio" or (not unit and name.endswith("_ratio")):
        raw = f"{value * 100:.1f}%"
    else:
        raw = f"{value:.4g}"
    return raw + "/s" if counter_rate else raw
