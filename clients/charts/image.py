"""Draw a Picture as an image file with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import numpy as np

from infracast.clients.charts.picture import Picture


def _local(seconds) -> np.ndarray:
    """Local times for the x axis (an object array: matplotlib's date converter takes it as
    it takes a list, and its type hints accept arrays)."""
    return np.array([datetime.fromtimestamp(float(s)).astimezone() for s in np.asarray(seconds)],
                    dtype=object)


def save(p: Picture, path: Path, width_in: float = 11.0, height_in: float = 5.5, dpi: int = 110) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), dpi=dpi, layout="constrained")
    ax = figure.add_subplot()
    forecast_x = _local(p.forecast_x)
    for band, alpha in zip(p.bands, (0.18, 0.32), strict=False):
        ax.fill_between(forecast_x, band.lower, band.upper, color="tab:orange", alpha=alpha, linewidth=0,
                        label=f"{band.level:g}% interval")
    if len(p.history_x):
        ax.plot(_local(p.history_x), p.history_y, color="tab:blue", linewidth=1.2, label="history")
    ax.plot(forecast_x, p.forecast_y, color="tab:orange", linewidth=1.8, label="forecast")
    if len(p.anomalies_x):
        ax.scatter(_local(p.anomalies_x), p.anomalies_y, color="tab:purple", marker="x", zorder=3,
                   label="anomaly")
    ax.axvline(_local([p.now_x])[0], color="grey", linestyle=":", linewidth=1, label="now")
    if p.threshold_y is not None:
        ax.axhline(p.threshold_y, color="tab:red", linestyle="--", linewidth=1.2, label=p.threshold_label)
    if p.crossing_x is not None:
        crossing = _local([p.crossing_x])[0]
        ax.axvline(crossing, color="tab:red", linewidth=1.2)
        ax.annotate(p.crossing_label, (crossing, p.threshold_y), xytext=(6, 12), textcoords="offset points",
                    color="tab:red")
    zone = datetime.now().astimezone().tzinfo
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(tz=zone))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator(), tz=zone))
    ax.set_title(f"{p.title}\n{p.subtitle}", fontsize=10)
    ax.set_xlabel(p.x_label)
    ax.set_ylabel(p.y_label)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    notes = [p.crossing_label] if p.crossing_label and p.crossing_x is None else []
    if notes or p.notes:
        # Wrapped: a note wider than the figure would be cut off at its edges.
        wrapped = [textwrap.fill(note, int(width_in * 14)) for note in notes + p.notes]
        figure.supxlabel("\n".join(wrapped), fontsize=8, color="dimgrey")
    figure.savefig(path, format=Path(path).suffix.lstrip(".").lower() or "png")
