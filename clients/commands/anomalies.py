"""`infracast anomalies`: the anomalous episodes among a series' recent samples."""

from __future__ import annotations

import argparse

from infracast.clients.client import SENSITIVITIES, InfracastClient
from infracast.clients.commands.arguments import command, duration
from infracast.clients.commands.output import Report, Table, iso, ms_to_datetime, when_text
from infracast.clients.units import format_value
from infracast.common.durations import format_duration

EXAMPLES = """
infracast anomalies 'node_load1{node="n1"}' --window 1h
infracast anomalies 'node_load1{node="n1"}' --sensitivity low-fp
infracast anomalies 'node_load1{node="n1"}' --threshold 0.5 --all -o csv
"""


def run(client: InfracastClient, args: argparse.Namespace) -> Report:
    a = client.detect_anomalies(args.selector, args.window, args.threshold or 0.0, args.sensitivity)
    data = {
        "series": {"metric": a.series.metric, "labels": a.series.labels},
        "threshold": a.threshold, "step_seconds": a.step_s, "model": vars(a.model),
        "enough_history": a.enough_history, "history_samples": a.history_samples,
        "required_samples": a.required_samples,
        "events": [{"start": iso(e.start), "end": iso(e.end), "peak": iso(e.peak),
                    "peak_score": e.peak_score, "value": e.value,
                    "expected_low": e.expected_low, "expected_high": e.expected_high}
                   for e in a.events],
        "scores": [{"timestamp": str(t) + "Z", "value": v, "expected_low": low, "expected_high": high,
                    "score": z, "anomalous": bool(flag)}
                   for t, v, low, high, z, flag in zip(
                       a.timestamps, a.values.tolist(), a.expected_low.tolist(), a.expected_high.tolist(),
                       a.scores.tolist(), a.anomalous, strict=True)],
    }
    metric = a.series.metric
    unit, rate = client.metric_meaning(metric).unit, a.model.rate_of_counter

    def shown(value: float) -> str:
        return format_value(metric, value, rate, unit)

    if not a.enough_history:
        line = (f"{a.series}: not enough history yet: the detector has learned from "
                f"{a.history_samples} of the {a.required_samples} samples it needs before it scores")
        return Report(data, lines=[line], csv=Table(["timestamp", "value", "score", "anomalous"], []))
    line = (f"{a.series}: {len(a.events)} anomalous episode(s) in {len(a.scores)} points at score >= "
            f"{a.threshold:g} (step {format_duration(a.step_s)})")
    tables = []
    if a.events:
        tables.append(Table(["START", "END", "PEAK", "VALUE", "EXPECTED"], [
            [when_text(e.start), when_text(e.end), f"{e.peak_score:.2f}", shown(e.value),
             f"{shown(e.expected_low)} .. {shown(e.expected_high)}"]
            for e in a.events], [False, False, True, True, True]))
    if args.all:
        tables.append(Table(["TIME", "VALUE", "EXPECTED", "SCORE", "ANOMALOUS"], [
            [when_text(ms_to_datetime(a.timestamps[i])), shown(a.values[i]),
             f"{shown(a.expected_low[i])} .. {shown(a.expected_high[i])}",
             f"{a.scores[i]:.2f}", "yes" if a.anomalous[i] else ""] for i in range(len(a.scores))],
            [False, True, True, True, False]))
    raw = [[ms_to_datetime(a.timestamps[i]).isoformat(), repr(float(a.values[i])),
            repr(float(a.expected_low[i])), repr(float(a.expected_high[i])), repr(float(a.scores[i])),
            str(bool(a.anomalous[i])).lower()] for i in range(len(a.scores))]
    return Report(data, lines=[line], tables=tables,
                  csv=Table(["timestamp", "value", "expected_low", "expected_high", "score", "anomalous"],
                            raw))


def register(commands) -> argparse.ArgumentParser:
    parser = command(commands, "anomalies", "anomalous episodes among recent samples of one series",
                     EXAMPLES)
    parser.add_argument("selector", help='e.g. node_load1{node="n1"}')
    parser.add_argument("--window", type=duration, default=3600.0,
                        help="how much recent history to score (default 1h)")
    parser.add_argument("--sensitivity", choices=list(SENSITIVITIES), default="standard",
                        help="low-fp: fewer false alarms; low-fn: fewer misses (default standard)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="anomaly score in (0, 1] that raises an event (overrides --sensitivity)")
    parser.add_argument("--all", action="store_true", help="also list every scored point")
    parser.set_defaults(handler=run)
    return parser
