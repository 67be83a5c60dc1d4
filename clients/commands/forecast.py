"""`infracast forecast`: one series' forecast with its intervals."""

from __future__ import annotations

import argparse

import numpy as np

from infracast.clients.client import Forecast, InfracastClient
from infracast.clients.commands.arguments import command, duration
from infracast.clients.commands.output import Report, Table, iso, ms_to_datetime, when_text
from infracast.clients.units import format_value
from infracast.common.durations import format_duration

EXAMPLES = """
infracast forecast 'node_load1{node="n1"}' --horizon 6h
infracast forecast node_memory_MemAvailable_bytes --aggregate sum --horizon 1d
infracast forecast 'node_load1{node="n1"}' --level 90 -o csv > load.csv
"""


def forecast_json(f: Forecast) -> dict:
    return {
        "series": {"metric": f.series.metric, "labels": f.series.labels},
        "timestamps": [str(t) + "Z" for t in f.timestamps],
        "mean": f.mean.tolist(),
        "intervals": [{"level": level, "lower": f.lower[level].tolist(),
                       "upper": f.upper[level].tolist()} for level in sorted(f.lower)],
        "model": vars(f.model),
        "step_seconds": f.step_s,
        "last_timestamp": iso(f.last_timestamp),
        "last_value": f.last_value,
        "limits": vars(f.limits),
    }


def run(client: InfracastClient, args: argparse.Namespace) -> Report:
    f = client.forecast(args.selector, args.horizon, args.level or (80.0, 95.0), args.aggregate)
    metric = f.series.metric
    unit = client.metric_meaning(metric).unit

    def shown_value(value: float) -> str:  # "/s" as the server answered: by declared type
        return format_value(metric, value, f.model.rate_of_counter, unit)

    rate = " (per-second rate of the counter)" if f.model.rate_of_counter else ""
    lines = [f"{f.series}{rate}", f"model: {f.model.name} — {f.model.reason}"]
    if f.model.backtest_mae:
        lines.append(f"backtest: mean absolute error {shown_value(f.model.backtest_mae)}, "
                     f"MASE {f.model.backtest_mase:.2f}")
    lines.append(f"last: {shown_value(f.last_value)} at {when_text(f.last_timestamp)}; "
                 f"step {format_duration(f.step_s)} near now, wider further out")
    if f.limits.applied:
        lines.append(f"kept within physical limits: {f.limits.reason}")
    shown = np.unique(np.linspace(0, len(f.mean) - 1, min(args.points, len(f.mean))).round().astype(int))
    levels = sorted(f.lower)
    headers = ["TIME", "AHEAD", "FORECAST", *(f"{level:g}% INTERVAL" for level in levels)]
    rows = []
    for i in shown:
        stamp = ms_to_datetime(f.timestamps[i])
        rows.append([when_text(stamp), format_duration(stamp.timestamp() - f.last_timestamp.timestamp()),
                     shown_value(f.mean[i]), *(
                         f"{shown_value(f.lower[lv][i])} … {shown_value(f.upper[lv][i])}"
                         for lv in levels)])
    raw = [[ms_to_datetime(t).isoformat(), repr(float(f.mean[i])),
            *(repr(float(b[lv][i])) for lv in levels for b in (f.lower, f.upper))]
           for i, t in enumerate(f.timestamps)]
    return Report(forecast_json(f), lines=lines,
                  tables=[Table(headers, rows, [False, True, True, *([True] * len(levels))])],
                  csv=Table(["timestamp", "mean", *(f"{side}_{lv:g}" for lv in levels
                                                    for side in ("lower", "upper"))], raw))


def register(commands) -> argparse.ArgumentParser:
    parser = command(commands, "forecast", "forecast one series", EXAMPLES)
    parser.add_argument("selector", help='e.g. node_memory_MemAvailable_bytes{node="n1"}')
    parser.add_argument("--horizon", type=duration, default=3600.0,
                        help="how far ahead, e.g. 30m, 6h, 2d (default 1h)")
    parser.add_argument("--level", type=float, action="append",
                        help="interval level in percent; repeat for several (default 80 and 95)")
    parser.add_argument("--aggregate", choices=("sum", "avg", "max", "min"), default="",
                        help="combine every matching series into one before forecasting")
    parser.add_argument("--points", type=int, default=12,
                        help="rows to show in the table (json and csv have every point)")
    parser.set_defaults(handler=run)
    return parser
