"""Draw a Picture in the terminal with plotext (braille lines; bands as their edges)."""

from __future__ import annotations

import os
import shutil
import sys

from infracast.clients.charts.picture import Picture, time_ticks

HISTORY = (30, 110, 200)
FORECAST = (230, 120, 20)
BANDS = ((250, 200, 150), (240, 165, 100))  # widest level first
THRESHOLD = (210, 30, 30)
ANOMALY = (200, 0, 200)


def _line(fig, x, y, color, label: str | None, marker_name: str = "braille"):
    import plotext

    if len(x) == 0:
        return
    signal = fig.signal([float(v) for v in x], [float(v) for v in y],
                        marker=plotext.marker(marker_name, pixel=plotext.pixel(color))).lines(True)
    if label:
        signal.label(label)
    fig.draw(signal)


def render(p: Picture, width: int | None = None, height: int | None = None, color: bool = True) -> str:
    import plotext

    columns, rows = _terminal_size()
    fig = plotext.figure
    fig.clear()
    fig.plot_size(width or columns, height or max(rows - 5 - len(p.notes), 15))
    for band, color_rgb in zip(p.bands, BANDS, strict=False):
        _line(fig, p.forecast_x, band.upper, color_rgb, f"{band.level:g}% interval")
        _line(fig, p.forecast_x, band.lower, color_rgb, None)
    _line(fig, p.history_x, p.history_y, HISTORY, "history")
    _line(fig, p.forecast_x, p.forecast_y, FORECAST, "forecast")
    if len(p.anomalies_x):
        fig.draw(fig.signal([float(v) for v in p.anomalies_x], [float(v) for v in p.anomalies_y],
                            marker=plotext.marker("x", pixel=plotext.pixel(ANOMALY))).label("anomaly"))
    fig.line(p.now_x, "vertical", label="now")
    if p.threshold_y is not None:
        fig.line(p.threshold_y, "horizontal", pixel=plotext.pixel(THRESHOLD), label=p.threshold_label)
    if p.crossing_x is not None:
        fig.line(p.crossing_x, "vertical", pixel=plotext.pixel(THRESHOLD), label=p.crossing_label)
    start = float(p.history_x[0]) if len(p.history_x) else p.now_x
    positions, labels = time_ticks(start, float(p.forecast_x[-1]))
    fig.ruler("x").ticks(positions, labels)
    fig.label(p.x_label, axis="x")
    fig.label(p.y_label, axis="y")
    fig.legend(False)  # it would cover the history; a legend line follows the chart instead
    text = fig.build()
    body = text.string(colorless=not color)
    footer = [p.crossing_label] if p.crossing_label and p.crossing_x is None else []
    # The title is ours, not plotext's: plotext drops a title wider than the plot.
    return "\n".join([f"{p.title} — {p.subtitle}", body, legend(p, color), *footer, *p.notes])


def _terminal_size() -> tuple[int, int]:
    """The terminal's own size (not $COLUMNS/$LINES, which test runners and shells may leave stale)."""
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
        return size.columns, size.lines
    except (OSError, ValueError):
        return shutil.get_terminal_size((100, 30))


def _paint(text: str, rgb: tuple[int, int, int], color: bool) -> str:
    return f"\x1b[38;2;{rgb[0]};{rgb[1]};{rgb[2]}m{text}\x1b[0m" if color else text


def legend(p: Picture, color: bool) -> str:
    parts = [_paint("⣿ history", HISTORY, color), _paint("⣿ forecast", FORECAST, color)]
    parts += [_paint(f"⣿ {band.level:g}% interval", rgb, color)
              for band, rgb in zip(p.bands, BANDS, strict=False)]
    parts.append("│ now")
    if len(p.anomalies_x):
        parts.append(_paint("x anomaly", ANOMALY, color))
    if p.threshold_y is not None:
        parts.append(_paint(f"─ {p.threshold_label}", THRESHOLD, color))
    if p.crossing_x is not None:
        parts.append(_paint(f"│ {p.crossing_label}", THRESHOLD, color))
    return "  ".join(parts)
