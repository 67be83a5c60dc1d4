"""`infracast plot`: history, forecast, intervals and a threshold crossing as a chart."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infracast.clients.charts.picture import picture
from infracast.clients.charts.question import ChartData, ask
from infracast.clients.client import InfracastClient
from infracast.clients.commands.arguments import add_output, command, duration, threshold
from infracast.clients.commands.forecast import forecast_json
from infracast.clients.commands.output import Report, Table, emit, ms_to_datetime
from infracast.clients.commands.spinner import waiting
from infracast.clients.commands.when import crossing_json

EXAMPLES = """
infracast plot 'node_load1{node="n1"}' --horizon 6h
infracast plot 'node_filesystem_avail_bytes{node="n1",mountpoint="/"}' --horizon 2d --threshold 0 --below
infracast plot 'node_memory_MemAvailable_bytes{node="n1"}' --threshold 10% --below --png memory.png
infracast plot 'node_load1{node="n1"}' -o csv > load.csv     # the chart's numbers
"""


def chart_report(data: ChartData) -> Report:
    f = data.forecast
    levels = sorted(f.lower)
    history = [{"timestamp": ms_to_datetime(t).isoformat(), "value": float(v), "anomalous": bool(a)}
               for t, v, a in zip(data.history_times, data.history_values, data.anomalous, strict=False)]
    rows = [[ms_to_datetime(t).isoformat(), "history", repr(float(v)), *([""] * 2 * len(levels))]
            for t, v, _ in zip(data.history_times, data.history_values, data.anomalous, strict=False)]
    rows += [[ms_to_datetime(t).isoformat(), "forecast", repr(float(f.mean[i])),
              *(repr(float(b[lv][i])) for lv in levels for b in (f.lower, f.upper))]
             for i, t in enumerate(f.timestamps)]
    return Report({"history": history, "forecast": forecast_json(f),
                   "crossing": crossing_json(data.crossing) if data.crossing else None, "notes": data.notes},
                  csv=Table(["timestamp", "kind", "value",
                             *(f"{side}_{lv:g}" for lv in levels for side in ("lower", "upper"))], rows))


def run(client: InfracastClient, args: argparse.Namespace) -> int:
    if args.below is not None and args.threshold is None and args.below is True:
        raise ValueError("--below needs a threshold: --threshold VALUE --below, or --below VALUE")
    limit = args.threshold if args.threshold is not None else (
        args.below if args.below not in (None, True) else args.above)
    falling = args.below is not None
    with waiting(f"asking {client.target}…"):
        data = ask(client, args.selector, args.horizon, args.history, limit, falling)
    if args.output != "table":  # the chart's numbers, for scripts
        return emit(chart_report(data), args.output)
    drawn = picture(data)
    if args.png is not None:
        from infracast.clients.charts.image import save

        save(drawn, args.png)
        print(f"wrote {args.png}")
        return 0
    from infracast.clients.charts.terminal import render

    print(render(drawn, args.width, args.height, color=sys.stdout.isatty() and not args.no_color))
    return 0


def register(commands) -> argparse.ArgumentParser:
    parser = command(commands, "plot", "chart a series' history, forecast and intervals", EXAMPLES,
                     "Chart one series: its recent history, the forecast with its 80% and 95% intervals, "
                     "and, given a threshold, when the forecast crosses it. In the terminal by default; "
                     "--png writes an image instead.")
    parser.add_argument("selector", help='one series, e.g. node_load1{node="n1"}')
    parser.add_argument("--horizon", type=duration, default=6 * 3600.0,
                        help="how far ahead, e.g. 1h, 6h, 2d (default 6h); shortened, with a note, "
                             "when the history cannot support it")
    parser.add_argument("--history", type=duration, default=None,
                        help="how much history to show (default twice the horizon, at least 1h, at most 7d)")
    parser.add_argument("--threshold", type=threshold,
                        help="mark this level and when the forecast crosses it")
    parser.add_argument("--below", nargs="?", const=True, type=threshold, metavar="VALUE",
                        help="the crossing is the series falling to the threshold")
    parser.add_argument("--above", type=threshold, metavar="VALUE", help="the series rising to VALUE")
    parser.add_argument("--png", type=Path, default=None, help="write the chart to this image file instead")
    parser.add_argument("--width", type=int, default=None, help="terminal columns (default: the terminal's)")
    parser.add_argument("--height", type=int, default=None, help="terminal rows (default: the terminal's)")
    parser.add_argument("--no-color", action="store_true", help="plain characters, no colours")
    add_output(parser)
    parser.set_defaults(interactive=run)
    return parser
