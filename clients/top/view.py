"""Draw the fleet view with rich: the table, the keys, a legend."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from rich.console import Group, JustifyMethod, RenderableType
from rich.table import Table
from rich.text import Text

from infracast.clients.top.fleet import FleetView, NodeView
from infracast.common.durations import format_duration

BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 24
KEYS = "keys: s sort · f filter · / find node · q quit"


def sparkline(values: np.ndarray, flags: np.ndarray, width: int = SPARK_WIDTH) -> Text:
    """Bars of a ratio (0 to 100 %) over the hour, oldest left; buckets holding an anomaly in red."""
    text = Text()
    if len(values) == 0:
        return text.append("·" * width, style="dim")
    buckets = np.array_split(np.arange(len(values)), min(width, len(values)))
    for bucket in buckets:
        level = float(np.clip(np.nanmean(values[bucket]), 0.0, 1.0))
        flagged = len(flags) == len(values) and bool(flags[bucket].any())
        text.append(BLOCKS[min(int(level * len(BLOCKS)), len(BLOCKS) - 1)],
                    style="bold red" if flagged else "cyan")
    return text


def _percent(value: float | None, warn: float = 0.8, alarm: float = 0.9) -> Text:
    if value is None:
        return Text("-", style="dim")
    style = "bold red" if value >= alarm else "yellow" if value >= warn else ""
    return Text(f"{value * 100:.0f}%", style=style)


def _exhaustion(view: NodeView, within_s: float) -> Text:
    e = view.exhaustion
    if e is None and view.unjudged:
        return Text(f"history too short to see {format_duration(within_s)}", style="dim")
    if e is None:
        return Text(f"none within {format_duration(within_s)}", style="dim")
    if e.in_s <= 0:
        return Text(f"{e.resource} exhausted now", style="bold white on red")
    form = "%H:%M" if e.in_s < 20 * 3600 else "%a %H:%M"  # the weekday only when it may not be today
    at = f", at {datetime.fromtimestamp(e.at_s).strftime(form)}" if e.at_s else ""
    style = "bold red" if e.in_s < 6 * 3600 else "yellow" if e.in_s < 24 * 3600 else ""
    return Text(f"{e.resource} in {format_duration(e.in_s)}{at} (p {e.probability:.0%})", style=style)


def render(fleet: FleetView, rows: list[NodeView], sort: str, show: str, find: str = "",
           typing: bool = False, updated: str = "", keys: bool = True, width: int = 200) -> Group:
    table = Table(box=None, pad_edge=False, header_style="bold", expand=False)
    widest = max((len(view.node) for view in rows), default=4)
    # The sparkline gives way on a narrow terminal: names, numbers and exhaustion stay whole.
    spark = max(6, min(SPARK_WIDTH, width - widest - 4 - 6 - 4 - 42 - 7 - 6))
    # On a narrow terminal the names and numbers stay whole; the sparkline and notes give way.
    columns: tuple[tuple[str, JustifyMethod, int | None], ...] = (
        ("NODE", "left", widest), ("CPU", "right", 4), ("MEMORY", "right", 6), ("DISK", "right", 4),
        ("CPU LAST HOUR", "left", None), ("SOONEST EXHAUSTION", "left", 20), ("NOTE", "left", None))
    for name, justify, min_width in columns:
        table.add_column(name, justify=justify, no_wrap=True, min_width=min_width)
    for view in rows:
        table.add_row(Text(view.node, style="bold magenta" if view.anomalous else ""),
                      _percent(view.cpu), _percent(view.memory_used), _percent(view.disk_used),
                      sparkline(view.cpu_hour, view.anomalous_hour, spark), _exhaustion(view, fleet.within_s),
                      Text("anomaly", style="bold magenta") if view.anomalous else Text(""))
    title = Text.assemble(("infracast top", "bold"),
                          f" — {len(rows)} of {len(fleet.nodes)} nodes · sorted by ",
                          (sort, "bold"), " · showing ", (show, "bold"),
                          *((" · node contains ", (find + ("▏" if typing else ""), "bold")) if find or typing
                            else ()), f" · {updated}" if updated else "")
    legend = Text.assemble(
        "legend: CPU/MEMORY/DISK used now (", ("yellow", "yellow"), " ≥80%, ", ("red", "bold red"),
        " ≥90%; disk is the fullest file system) · CPU LAST HOUR: one bar per ",
        f"{60 / spark:g} min, ".replace(".0 min", " min"), ("red", "bold red"),
        " where scored anomalous · ", ("magenta", "bold magenta"), " node, anomaly: one in the last hour · "
        "SOONEST EXHAUSTION: memory or a file system predicted to run out, when, and the probability")
    parts: list[RenderableType] = [title, table, *(Text(p, style="dim") for p in fleet.problems), legend]
    if keys:
        parts.append(Text(KEYS, style="dim"))
    return Group(*parts)
