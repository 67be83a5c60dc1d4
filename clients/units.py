"""Format values for people in the metric's unit: the one its sender declared, else the
one its name ends in, as node_exporter names them (_bytes, _ratio, _seconds)."""

from __future__ import annotations

import math

_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_NAMED_UNITS = ("bytes", "ratio", "seconds")


def format_bytes(value: float) -> str:
    magnitude = abs(value)
    for unit in _BINARY:
        if magnitude < 1024 or unit == _BINARY[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
        magnitude /= 1024
    raise AssertionError("unreachable")


def base_unit(metric: str, declared: str = "") -> str:
    """The metric's unit: `declared` (its descriptor's) when there is one; else bytes, ratio
    or seconds where its name ends so (before any _total); else ""."""
    if declared:
        return declared
    name = metric.removesuffix("_total")
    return next((unit for unit in _NAMED_UNITS if name.endswith(f"_{unit}")), "")


def format_value(metric: str, value: float, counter_rate: bool, unit: str = "") -> str:
    """The value in the metric's unit (`unit`: the declared one, "" if none). `counter_rate`
    says whether the value is a counter's per-second rate ("/s"): the answer's
    rate_of_counter, which the server decides by the declared type (the _total suffix only
    for a metric nobody described); False for a counter's raw value."""
    if not math.isfinite(value):
        return str(value)
    unit = base_unit(metric, unit)
    if unit == "bytes":
        raw = format_bytes(value)
    elif unit == "ratio":
        raw = f"{value * 100:.1f}%"
    else:
        raw = f"{value:.4g}"
    return raw + "/s" if counter_rate else raw
