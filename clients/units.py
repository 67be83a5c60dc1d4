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


def format_value(metric: str, value: float, counter_rate: bool = True, unit: str = "") -> str:
    """The value in the metric's unit: the declared `unit` when known, else the name's
    suffix. Counters (_total) are forecast as per-second rates, so they get "/s"; pass
    counter_rate=False for a counter's raw value."""
    if not math.isfinite(value):
        return str(value)
    if unit == "bytes":
        return format_bytes(value)
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if metric.endswith("_total"):
        raw = format_value(metric.removesuffix("_total"), value)
        return raw + "/s" if counter_rate else raw
    if metric.endswith("_bytes"):
        return format_bytes(value)
    if metric.endswith("_ratio"):
        return f"{value * 100:.1f}%"
    return f"{value:.4g}"
