"""Human durations, as Prometheus writes them: 500ms, 10s, 5m, 1h30m, 2d, 1w."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(text: str) -> float:
    """Seconds in a duration such as '90s', '1h30m' or a bare number of seconds.

    Raises ValueError with the accepted forms when the text is not a duration.
    """
    source = text.strip()
    try:
        return float(source)
    except ValueError:
        pass
    parts = _PART.findall(source)
    if not parts or "".join(number + unit for number, unit in parts) != source:
        raise ValueError(
            f"{text!r} is not a duration: use a number with a unit, e.g. 500ms, 10s, 5m, 1h30m, 2d"
        )
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def format_duration(seconds: float) -> str:
    """Two most significant units, e.g. 3d 4h, 2h 15m, 45s."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds < 60:
        return f"{seconds:.0f}s" if seconds >= 1 or seconds == 0 else f"{seconds * 1000:.0f}ms"
    remaining = round(seconds)
    pieces = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if remaining >= size:
            pieces.append(f"{remaining // size}{unit}")
            remaining %= size
    return " ".join(pieces[:2])
