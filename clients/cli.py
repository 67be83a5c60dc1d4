"""The infracast command line: a thin layer over InfracastClient.

Tables for people by default, --json for scripts. Errors print one line to
stderr and exit 1 (2 for bad arguments, as argparse does).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from infracast.clients.channels import TlsOptions
from infracast.clients.client import THRESHOLD_SOURCES, Forecast, InfracastClient, ThresholdCrossing
from infracast.clients.durations import format_duration, parse_duration
from infracast.clients.errors import ClientError
from infracast.clients.table import render_table
from infracast.clients.units import format_value

DEFAULT_SERVER = "127.0.0.1:50051"
HEALTH_SERVICES = ("", "infracast.v1.IngestService", "infracast.v1.ForecastService")


def _duration_arg(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return seconds


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def cmd_series(client: InfracastClient, args: argparse.Namespace) -> int:
    series, truncated = client.list_series(args.selector, args.limit)
    if args.json:
        print(json.dumps({"series": [
            {"metric": s.series.metric, "labels": s.series.labels, "sample_count": s.sample_count,
             "first": _iso(s.first), "last": _iso(s.last), "last_value": s.last_value}
            for s in series], "truncated": truncated}, indent=2))
        return 0
    rows = [[str(s.series), str(s.sample_count), _when(s.last),
             format_value(s.series.metric, s.last_value, counter_rate=False)] for s in series]
    print(render_table(["SERIES", "SAMPLES", "LAST SAMPLE", "LAST VALUE"], rows,
                       [False, True, False, True]))
    if truncated:
        print(f"(more series match; showing the first {len(series)}: raise --limit)")
    return 0


def _forecast_json(f: Forecast) -> dict:
    return {
        "series": {"metric": f.series.metric, "labels": f.series.labels},
        "timestamps": [str(t) + "Z" for t in f.timestamps],
        "mean": f.mean.tolist(),
        "intervals": [{"level": level, "lower": f.lower[level].tolist(),
                       "upper": f.upper[level].tolist()} for level in sorted(f.lower)],
        "model": vars(f.model),
        "step_seconds": f.step_s,
        "last_timestamp": _iso(f.last_timestamp),
        "last_value": f.last_value,
        "limits": vars(f.limits),
    }


def cmd_forecast(client: InfracastClient, args: argparse.Namespace) -> int:
    f = client.forecast(args.selector, args.horizon, args.level or (80.0, 95.0), args.aggregate)
    if args.json:
        print(json.dumps(_forecast_json(f), indent=2))
        return 0
    metric = f.series.metric
    rate = " (per-second rate of the counter)" if f.model.rate_of_counter else ""
    print(f"{f.series}{rate}")
    print(f"model: {f.model.name} — {f.model.reason}")
    if f.model.backtest_mae:
        print(f"backtest: mean absolute error {format_value(metric, f.model.backtest_mae)}, "
              f"MASE {f.model.backtest_mase:.2f}")
    print(f"last: {format_value(metric, f.last_value)} at {_when(f.last_timestamp)}; "
          f"step {format_duration(f.step_s)} near now, wider further out")
    if f.limits.applied:
        print(f"kept within physical limits: {f.limits.reason}")
    shown = np.unique(np.linspace(0, len(f.mean) - 1, min(args.points, len(f.mean))).round().astype(int))
    levels = sorted(f.lower)
    headers = ["TIME", "AHEAD", "FORECAST", *(f"{level:g}% INTERVAL" for level in levels)]
    rows = []
    for i in shown:
        ahead = (f.timestamps[i].astype("int64") / 1000) - f.last_timestamp.timestamp()
        stamp = datetime.fromtimestamp(f.timestamps[i].astype("int64") / 1000, tz=UTC)
        rows.append([_when(stamp), format_duration(ahead), format_value(metric, f.mean[i]), *(
            f"{format_value(metric, f.lower[lv][i])} … {format_value(metric, f.upper[lv][i])}"
            for lv in levels)])
    print(render_table(headers, rows, [False, True, True, *([True] * len(levels))]))
    return 0


def _crossing_json(c: ThresholdCrossing) -> dict:
    return {
        "series": {"metric": c.series.metric, "labels": c.series.labels},
        "will_cross": c.will_cross, "already_crossed": c.already_crossed,
        "expected": _iso(c.expected), "earliest": _iso(c.earliest), "latest": _iso(c.latest),
        "time_remaining_seconds": c.time_remaining_s, "last_value": c.last_value,
        "level": c.level, "horizon_seconds": c.horizon_s, "probability": c.probability,
        "threshold": c.threshold, "searched_seconds": c.searched_s, "reach_limited": c.reach_limited,
        "limits": vars(c.limits), "model": vars(c.model),
    }


def _threshold(text: str) -> float | str:
    """A number in the series' unit, a share of its capacity ("10%"), or a node-reported amount."""
    if text in THRESHOLD_SOURCES:
        return text
    try:
        if text.endswith("%"):
            float(text[:-1])
            return text
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number, a percentage of capacity such as 10%, or one of "
            f"{', '.join(THRESHOLD_SOURCES)}") from None


def _threshold_question(args: argparse.Namespace) -> tuple[float | str, bool]:
    """(threshold, falling) from --threshold/--below/--above."""
    given = [v for v in (args.threshold, args.below, args.above) if v not in (None, True)]
    if len(given) != 1:
        raise ValueError("give the threshold once: --below VALUE, --above VALUE, or --threshold VALUE "
                         "[--below]; VALUE is a number, a percentage of capacity (10%) or "
                         f"{' / '.join(THRESHOLD_SOURCES)}")
    return given[0], args.below is not None


def _target(metric: str, c: ThresholdCrossing, asked: float | str) -> str:
    target = format_value(metric, c.threshold)
    if isinstance(asked, str):
        target += f" ({asked} of capacity)" if asked.endswith("%") else f" (the node's {asked})"
    return target


def cmd_when(client: InfracastClient, args: argparse.Namespace) -> int:
    threshold, falling = _threshold_question(args)
    if args.within is not None:
        return _when_fleet(client, args, threshold, falling)
    c = client.time_to_threshold(args.selector, threshold, falling=falling,
                                 horizon=args.horizon, level=args.level, aggregate=args.aggregate)
    if args.json:
        print(json.dumps(_crossing_json(c), indent=2))
        return 0
    metric = c.series.metric
    way = "falls to" if falling else "reaches"
    target = _target(metric, c, threshold)
    searched = format_duration(c.searched_s)
    print(f"{c.series}: now {format_value(metric, c.last_value)}")
    if c.already_crossed:
        print(f"already past {target}")
    elif c.will_cross:
        print(f"{way} {target} in {format_duration(c.time_remaining_s or 0)}, at {_when(c.expected)}")
        latest = _when(c.latest) if c.latest else f"not within {searched}"
        print(f"{c.level:g}% range: earliest {_when(c.earliest)}, latest {latest}; "
              f"probability within {searched}: {c.probability:.0%}")
    else:
        verb = "fall to" if falling else "reach"
        print(f"does not {verb} {target} within {searched}"
              + (f" (possible from {_when(c.earliest)} at {c.level:g}%)" if c.earliest else "")
              + f"; probability {c.probability:.0%}")
    if c.reach_limited:
        print(f"looked {searched} ahead, not {format_duration(c.horizon_s)}: the history is too short "
              "to see further (a forecast reaches at most 5 times its history)")
    print(f"model: {c.model.name} — {c.model.reason}")
    return 0


def _when_fleet(client: InfracastClient, args: argparse.Namespace, threshold: float | str,
                falling: bool) -> int:
    crossings, token, examined, skipped = [], "", 0, []
    while True:
        page = client.threshold_crossings(args.selector, threshold, falling=falling, within=args.within,
                                          level=args.level, min_probability=args.min_probability,
                                          page_token=token)
        crossings += page.crossings
        examined, skipped, token = page.examined, page.skipped, page.next_page_token
        if not token:
            break
    if args.json:
        print(json.dumps({"crossings": [_crossing_json(c) for c in crossings], "examined": examined,
                          "skipped": [{"series": str(s), "reason": why} for s, why in skipped]},
                         indent=2))
        return 0
    way = "fall to" if falling else "reach"
    metric = crossings[0].series.metric if crossings else args.selector.split("{")[0]
    target = threshold if isinstance(threshold, str) else format_value(metric, threshold)
    print(f"{len(crossings)} of {examined} series {way} {target} within {format_duration(args.within)}")
    rows = []
    for c in crossings:
        metric = c.series.metric
        eta = ("now" if c.already_crossed else format_duration(c.time_remaining_s)
               if c.time_remaining_s is not None else "-")
        rows.append([str(c.series), format_value(metric, c.last_value), format_value(metric, c.threshold),
                     eta, _when(c.expected) if c.expected else "-", f"{c.probability:.0%}",
                     "" if not c.reach_limited else f"looked {format_duration(c.searched_s)}"])
    if rows:
        print(render_table(["SERIES", "NOW", "THRESHOLD", "IN", "AT", "PROBABILITY", "NOTE"], rows,
                           [False, True, True, True, False, True, False]))
    if skipped:
        print(f"{len(skipped)} series not judged (e.g. {skipped[0][0]}: {skipped[0][1]})")
    return 0


def cmd_anomalies(client: InfracastClient, args: argparse.Namespace) -> int:
    a = client.detect_anomalies(args.selector, args.window, args.threshold or 0.0, args.sensitivity)
    if args.json:
        print(json.dumps({
            "series": {"metric": a.series.metric, "labels": a.series.labels},
            "threshold": a.threshold, "step_seconds": a.step_s, "model": vars(a.model),
            "enough_history": a.enough_history, "history_samples": a.history_samples,
            "required_samples": a.required_samples,
            "events": [{"start": _iso(e.start), "end": _iso(e.end), "peak": _iso(e.peak),
                        "peak_score": e.peak_score, "value": e.value,
                        "expected_low": e.expected_low, "expected_high": e.expected_high}
                       for e in a.events],
            "scores": [{"timestamp": str(t) + "Z", "value": v, "expected_low": low,
                        "expected_high": high, "score": z, "anomalous": bool(flag)}
                       for t, v, low, high, z, flag in zip(
                           a.timestamps, a.values.tolist(), a.expected_low.tolist(),
                           a.expected_high.tolist(), a.scores.tolist(), a.anomalous, strict=True)],
        }, indent=2))
        return 0
    metric = a.series.metric
    if not a.enough_history:
        print(f"{a.series}: not enough history yet: the detector has learned from "
              f"{a.history_samples} of the {a.required_samples} samples it needs before it scores")
        return 0
    print(f"{a.series}: {len(a.events)} anomalous episode(s) in {len(a.scores)} points at score >= "
          f"{a.threshold:g} (step {format_duration(a.step_s)})")
    if a.events:
        rows = [[_when(e.start), _when(e.end), f"{e.peak_score:.2f}", format_value(metric, e.value),
                 f"{format_value(metric, e.expected_low)} .. {format_value(metric, e.expected_high)}"]
                for e in a.events]
        print(render_table(["START", "END", "PEAK", "VALUE", "EXPECTED"], rows,
                           [False, False, True, True, True]))
    if args.all:
        rows = [[_when(datetime.fromtimestamp(a.timestamps[i].astype("int64") / 1000, tz=UTC)),
                 format_value(metric, a.values[i]),
                 f"{format_value(metric, a.expected_low[i])} .. {format_value(metric, a.expected_high[i])}",
                 f"{a.scores[i]:.2f}", "yes" if a.anomalous[i] else ""] for i in range(len(a.scores))]
        print(render_table(["TIME", "VALUE", "EXPECTED", "SCORE", "ANOMALOUS"], rows,
                           [False, True, True, True, False]))
    return 0


def cmd_status(client: InfracastClient, args: argparse.Namespace) -> int:
    status = client.status()
    if args.json:
        print(json.dumps({"version": status.version, "profile": status.profile,
                          "started": _iso(status.started), "uptime_seconds": status.uptime_s,
                          "components": {name: {"state": state, "detail": detail}
                                         for name, (state, detail) in status.components.items()},
                          "counts": status.counts, "configuration": status.configuration,
                          "nodes": [{**vars(n), "last_connected": _iso(n.last_connected)}
                                    for n in status.nodes]}, indent=2))
        return 0
    print(f"infracast {status.version} ({status.profile}) at {client.target}, up "
          f"{format_duration(status.uptime_s)} since {_when(status.started)}")
    print(render_table(["COMPONENT", "STATE", "DETAIL"],
                       [[name, state, detail] for name, (state, detail) in status.components.items()]))
    print()
    print(render_table(["COUNT", "VALUE"], [[name, f"{value:g}"] for name, value in status.counts.items()],
                       [False, True]))
    if status.nodes:
        # Nodes that need a look: in the cluster without an agent, or whose agent went away.
        # All of them, with labels and allocatable resources, are in --json.
        missing = [n for n in status.nodes if not n.agent_connected]
        connected = len(status.nodes) - len(missing)
        print(f"\nnodes: {connected} with an agent connected, {len(missing)} without")
        if missing:
            print(render_table(["NODE", "IN CLUSTER", "AGENT LAST CONNECTED"],
                               [[n.name, "yes" if n.in_cluster else "-",
                                 _when(n.last_connected) if n.last_connected else "never"]
                                for n in missing]))
    healthy = all(state == "ready" for state, _ in status.components.values())
    return 0 if healthy else 1


def cmd_health(client: InfracastClient, args: argparse.Namespace) -> int:
    services = [args.service] if args.service is not None else list(HEALTH_SERVICES)
    statuses = {name: client.health(name) for name in services}
    if args.json:
        print(json.dumps({"server": client.target, "services": statuses}, indent=2))
    else:
        print(render_table(["SERVICE", "STATUS"],
                           [[name or "(server)", status] for name, status in statuses.items()]))
    return 0 if all(status == "SERVING" for status in statuses.values()) else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from infracast.clients.demo.run import run_demo

    return run_demo(duration_s=args.duration, nodes=args.nodes, interval_s=args.interval,
                    listen=args.listen)


def build_parser(env: dict[str, str] | os._Environ) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infracast",
                                     description="Ask an infracast server what your machines will do next.")
    parser.add_argument("--server", default=env.get("INFRACAST_SERVER", DEFAULT_SERVER),
                        help="server HOST:PORT (default: $INFRACAST_SERVER or %(default)s)")
    parser.add_argument("--timeout", type=_duration_arg, default=10.0,
                        help="per-call deadline (default 10s)")
    parser.add_argument("--token-file", type=Path, default=env.get("INFRACAST_TOKEN_FILE"),
                        help="file holding a bearer token, for servers with authentication")
    parser.add_argument("--tls", action="store_true", default=bool(env.get("INFRACAST_TLS_CA")),
                        help="connect with TLS (implied by --tls-ca)")
    parser.add_argument("--tls-ca", type=Path, default=env.get("INFRACAST_TLS_CA"),
                        help="CA bundle that signs the server's certificate (default: system roots)")
    parser.add_argument("--tls-cert", type=Path, default=env.get("INFRACAST_TLS_CERT"),
                        help="client certificate, for servers that require mutual TLS")
    parser.add_argument("--tls-key", type=Path, default=env.get("INFRACAST_TLS_KEY"),
                        help="client private key")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    series = commands.add_parser("series", help="list known series")
    series.add_argument("selector", nargs="?", default="",
                        help='e.g. node_load1 or {node="n1"} (default: all)')
    series.add_argument("--limit", type=int, default=0, help="at most this many (default 1000)")
    series.set_defaults(handler=cmd_series)

    forecast = commands.add_parser("forecast", help="forecast one series")
    forecast.add_argument("selector", help='e.g. node_memory_MemAvailable_bytes{node="n1"}')
    forecast.add_argument("--horizon", type=_duration_arg, default=3600.0,
                          help="how far ahead, e.g. 30m, 6h, 2d (default 1h)")
    forecast.add_argument("--level", type=float, action="append",
                          help="interval level in percent; repeat for several (default 80 and 95)")
    forecast.add_argument("--aggregate", choices=("sum", "avg", "max", "min"), default="",
                          help="combine every matching series into one before forecasting")
    forecast.add_argument("--points", type=int, default=12,
                          help="rows to show in the table (--json has every point)")
    forecast.set_defaults(handler=cmd_forecast)

    when = commands.add_parser("when", help="when a series will cross a threshold")
    when.add_argument("selector", help='e.g. node_filesystem_avail_bytes{node="n1",mountpoint="/"}')
    when.add_argument("--threshold", type=_threshold,
                      help="the level: a number in the series' unit, a percentage of its capacity "
                           "(10%% of its file system's size, its node's memory), or allocatable-memory "
                           "/ allocatable-cpu: what the series' Kubernetes node reported")
    when.add_argument("--below", nargs="?", const=True, type=_threshold, metavar="VALUE",
                      help="the series must fall to the threshold; --below VALUE gives it too, "
                           "e.g. --below 0 or --below 10%%")
    when.add_argument("--above", type=_threshold, metavar="VALUE",
                      help="the series must rise to VALUE")
    when.add_argument("--horizon", type=_duration_arg, default=7 * 86400.0,
                      help="how far ahead to look for one series (default 7d)")
    when.add_argument("--within", type=_duration_arg, default=None,
                      help="fleet-wide: every matching series that crosses within this long, "
                           "soonest first, e.g. --within 24h")
    when.add_argument("--min-probability", type=float, default=0.5,
                      help="with --within: also list series this likely to cross (default 0.5)")
    when.add_argument("--aggregate", choices=("sum", "avg", "max", "min"), default="",
                      help="combine every matching series into one first")
    when.add_argument("--level", type=float, default=80.0,
                      help="interval level for the earliest/latest range (default 80)")
    when.set_defaults(handler=cmd_when)

    anomalies = commands.add_parser("anomalies", help="anomalous episodes among recent samples of one series")
    anomalies.add_argument("selector", help='e.g. node_load1{node="n1"}')
    anomalies.add_argument("--window", type=_duration_arg, default=3600.0,
                           help="how much recent history to score (default 1h)")
    anomalies.add_argument("--sensitivity", choices=["standard", "low-fp", "low-fn"], default="standard",
                           help="low-fp: fewer false alarms; low-fn: fewer misses (default standard)")
    anomalies.add_argument("--threshold", type=float, default=None,
                           help="anomaly score in (0, 1] that raises an event (overrides --sensitivity)")
    anomalies.add_argument("--all", action="store_true", help="also list every scored point")
    anomalies.set_defaults(handler=cmd_anomalies)

    status = commands.add_parser("status", help="version, uptime, component states and counts")
    status.set_defaults(handler=cmd_status)

    health = commands.add_parser("health", help="check the server's health and readiness")
    health.add_argument("--service", default=None,
                        help="one service name ('' for the whole server); default: all")
    health.set_defaults(handler=cmd_health)

    for sub in (series, forecast, when, anomalies, status, health):
        sub.add_argument("--json", action="store_true", help="print JSON instead of a table")

    demo = commands.add_parser("demo", help="run server, a real agent and a simulated fleet here")
    demo.add_argument("--duration", type=_duration_arg, default=None,
                      help="stop after this long (default: run until Ctrl-C)")
    demo.add_argument("--nodes", type=int, default=20, help="simulated nodes (default 20)")
    demo.add_argument("--interval", type=_duration_arg, default=5.0,
                      help="sampling interval of the agents (default 5s)")
    demo.add_argument("--listen", default="127.0.0.1:0",
                      help="where the demo server listens (default: a free loopback port)")
    demo.set_defaults(handler=None)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser(os.environ).parse_args(argv)
    if args.command == "demo":
        sys.exit(cmd_demo(args))
    tls = (TlsOptions(args.tls_ca, args.tls_cert, args.tls_key)
           if args.tls or args.tls_ca or args.tls_cert else None)
    try:
        token = args.token_file.read_text().strip() if args.token_file else None
        with InfracastClient(args.server, timeout_s=args.timeout, tls=tls, token=token) as client:
            code = args.handler(client, args)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:
        # The reader is gone (`infracast ... | head`): that is how pipes end, not an error.
        # Python would complain again when it flushes stdout at exit: point it at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141  # 128 + SIGPIPE, what the shell reports for a command a pipe ended
    except (ClientError, OSError, ValueError) as error:
        print(f"infracast: error: {error}", file=sys.stderr)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
