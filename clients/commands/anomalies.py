"""`infracast anomalies`: how unusual a series' recent samples are."""

from __future__ import annotations

import argparse

import numpy as np

from infracast.clients.client import InfracastClient
from infracast.clients.commands.arguments import command, duration
from infracast.clients.commands.output import Report, Table, ms_to_datetime, when_text
from infracast.clients.durations import format_duration
from infracast.clients.units import format_value

EXAMPLES = """
infracast anomalies 'node_load1{node="n1"}' --window 1h
infracast anomalies 'node_load1{node="n1"}' --threshold 3 --all -o csv
"""


def run(client: InfracastClient, args: argparse.Namespace) -> Report:
    a = client.detect_anomalies(args.selector, args.window, args.threshold)
    data = {
        "series": {"metric": a.series.metric, "labels": a.series.labels},
        "threshold": a.threshold, "step_seconds": a.step_s, "model": vars(a.model),
        "scores": [{"timestamp": str(t) + "Z", "value": v, "expected": e, "score": z, "anomalous": bool(flag)}
                   for t, v, e, z, flag in zip(a.timestamps, a.values.tolist(), a.expected.tolist(),
                                               a.scores.tolist(), a.anomalous, strict=True)],
    }
    metric = a.series.metric
    shown = np.flatnonzero(a.anomalous) if not args.all else np.arange(len(a.scores))
    rows = [[when_text(ms_to_datetime(a.timestamps[i])), format_value(metric, a.values[i]),
             format_value(metric, a.expected[i]), f"{a.scores[i]:+.1f}", "yes" if a.anomalous[i] else ""]
            for i in shown]
    raw = [[ms_to_datetime(a.timestamps[i]).isoformat(), repr(float(a.values[i])),
            repr(float(a.expected[i])), repr(float(a.scores[i])), str(bool(a.anomalous[i])).lower()]
           for i in shown]
    line = (f"{a.series}: {int(a.anomalous.sum())} of {len(a.scores)} points at |score| >= "
            f"{a.threshold:g} (model {a.model.name}, step {format_duration(a.step_s)})")
    return Report(data, lines=[line],
                  tables=[Table(["TIME", "VALUE", "EXPECTED", "SCORE", "ANOMALOUS"], rows,
                                [False, True, True, True, False])],
                  csv=Table(["timestamp", "value", "expected", "score", "anomalous"], raw))


def register(commands) -> argparse.ArgumentParser:
    parser = command(commands, "anomalies", "score recent samples of one series", EXAMPLES)
    parser.add_argument("selector", help='e.g. node_load1{node="n1"}')
    parser.add_argument("--window", type=duration, default=3600.0,
                        help="how much recent history to score (default 1h)")
    parser.add_argument("--threshold", type=float, default=4.0,
                        help="robust z-score that flags a point (default 4)")
    parser.add_argument("--all", action="store_true", help="list every point, not only flagged ones")
    parser.set_defaults(handler=run)
    return parser
