"""`infracast when`: when a series, or every series of a fleet, crosses a threshold."""

from __future__ import annotations

import argparse

from infracast.clients.client import InfracastClient, MetricMeaning, ThresholdCrossing
from infracast.clients.commands.arguments import command, duration, threshold, threshold_question
from infracast.clients.commands.output import Report, Table, iso, when_text
from infracast.clients.units import format_value
from infracast.common.durations import format_duration

EXAMPLES = """
infracast when 'node_filesystem_avail_bytes{node="n1",mountpoint="/"}' --below 0
infracast when node_filesystem_avail_bytes --below 10% --within 24h    # the whole fleet, soonest first
infracast when 'node_memory_MemAvailable_bytes{node="n1"}' --below 10% -o json
"""

CSV_HEADERS = ["series", "will_cross", "already_crossed", "expected", "earliest", "latest",
               "time_remaining_seconds", "probability", "last_value", "threshold", "searched_seconds"]


def crossing_json(c: ThresholdCrossing) -> dict:
    return {
        "series": {"metric": c.series.metric, "labels": c.series.labels},
        "will_cross": c.will_cross, "already_crossed": c.already_crossed,
        "expected": iso(c.expected), "earliest": iso(c.earliest), "latest": iso(c.latest),
        "time_remaining_seconds": c.time_remaining_s, "last_value": c.last_value,
        "level": c.level, "horizon_seconds": c.horizon_s, "probability": c.probability,
        "threshold": c.threshold, "searched_seconds": c.searched_s, "reach_limited": c.reach_limited,
        "limits": vars(c.limits), "model": vars(c.model),
    }


def _csv_row(c: ThresholdCrossing) -> list[str]:
    return [str(c.series), str(c.will_cross).lower(), str(c.already_crossed).lower(), iso(c.expected) or "",
            iso(c.earliest) or "", iso(c.latest) or "",
            "" if c.time_remaining_s is None else repr(c.time_remaining_s), repr(c.probability),
            repr(c.last_value), repr(c.threshold), repr(c.searched_s)]


def _target(metric: str, c: ThresholdCrossing, asked: float | str, unit: str) -> str:
    target = format_value(metric, c.threshold, c.model.rate_of_counter, unit)
    if isinstance(asked, str):
        target += f" ({asked} of capacity)" if asked.endswith("%") else f" (the node's {asked})"
    return target


def run(client: InfracastClient, args: argparse.Namespace) -> Report:
    limit, falling = threshold_question(args)
    if args.within is not None:
        return _fleet(client, args, limit, falling)
    c = client.time_to_threshold(args.selector, limit, falling=falling,
                                 horizon=args.horizon, level=args.level, aggregate=args.aggregate)
    metric = c.series.metric
    unit = client.metric_meaning(metric).unit
    way = "falls to" if falling else "reaches"
    target = _target(metric, c, limit, unit)
    searched = format_duration(c.searched_s)
    lines = [f"{c.series}: now {format_value(metric, c.last_value, c.model.rate_of_counter, unit)}"]
    if c.already_crossed:
        lines.append(f"already past {target}")
    elif c.will_cross:
        lines.append(f"{way} {target} in {format_duration(c.time_remaining_s or 0)}, "
                     f"at {when_text(c.expected)}")
        latest = when_text(c.latest) if c.latest else f"not within {searched}"
        lines.append(f"{c.level:g}% range: earliest {when_text(c.earliest)}, latest {latest}; "
                     f"probability within {searched}: {c.probability:.0%}")
    else:
        verb = "fall to" if falling else "reach"
        lines.append(f"does not {verb} {target} within {searched}"
                     + (f" (possible from {when_text(c.earliest)} at {c.level:g}%)" if c.earliest else "")
                     + f"; probability {c.probability:.0%}")
    if c.reach_limited:
        lines.append(f"looked {searched} ahead, not {format_duration(c.horizon_s)}: the history is too short "
                     "to see further (a forecast reaches at most 5 times its history)")
    lines.append(f"model: {c.model.name} — {c.model.reason}")
    return Report(crossing_json(c), lines=lines, csv=Table(CSV_HEADERS, [_csv_row(c)]))


def _fleet(client: InfracastClient, args: argparse.Namespace, limit: float | str, falling: bool) -> Report:
    crossings, token, examined, skipped = [], "", 0, []
    while True:
        page = client.threshold_crossings(args.selector, limit, falling=falling, within=args.within,
                                          level=args.level, min_probability=args.min_probability,
                                          page_token=token)
        crossings += page.crossings
        examined, skipped, token = page.examined, page.skipped, page.next_page_token
        if not token:
            break
    data = {"crossings": [crossing_json(c) for c in crossings], "examined": examined,
            "skipped": [{"series": str(s), "reason": why} for s, why in skipped]}
    way = "fall to" if falling else "reach"
    meanings: dict[str, MetricMeaning] = {}  # one question per metric, not per series

    def meaning(metric: str) -> MetricMeaning:
        if metric not in meanings:
            meanings[metric] = client.metric_meaning(metric)
        return meanings[metric]

    # With no crossing to read the server's answer from, the selector's metric (if it names
    # one) is asked about; a selector of labels only leaves the threshold a plain number.
    metric = crossings[0].series.metric if crossings else args.selector.split("{")[0].strip()
    if isinstance(limit, str):
        target = limit
    elif crossings:
        target = format_value(metric, limit, crossings[0].model.rate_of_counter, meaning(metric).unit)
    elif metric:
        target = format_value(metric, limit, meaning(metric).counter, meaning(metric).unit)
    else:
        target = format_value(metric, limit, False)
    rows = []
    for c in crossings:
        metric, rate = c.series.metric, c.model.rate_of_counter
        eta = ("now" if c.already_crossed else format_duration(c.time_remaining_s)
               if c.time_remaining_s is not None else "-")
        rows.append([str(c.series), format_value(metric, c.last_value, rate, meaning(metric).unit),
                     format_value(metric, c.threshold, rate, meaning(metric).unit),
                     eta, when_text(c.expected) if c.expected else "-", f"{c.probability:.0%}",
                     "" if not c.reach_limited else f"looked {format_duration(c.searched_s)}"])
    notes = ([f"{len(skipped)} series not judged (e.g. {skipped[0][0]}: {skipped[0][1]})"]
             if skipped else [])
    return Report(data, lines=[f"{len(crossings)} of {examined} series {way} {target} within "
                               f"{format_duration(args.within)}"],
                  tables=[Table(["SERIES", "NOW", "THRESHOLD", "IN", "AT", "PROBABILITY", "NOTE"], rows,
                                [False, True, True, True, False, True, False])],
                  notes=notes, csv=Table(CSV_HEADERS, [_csv_row(c) for c in crossings]))


def register(commands) -> argparse.ArgumentParser:
    parser = command(commands, "when", "when a series will cross a threshold", EXAMPLES)
    parser.add_argument("selector", help='e.g. node_filesystem_avail_bytes{node="n1",mountpoint="/"}')
    parser.add_argument("--threshold", type=threshold,
                        help="the level: a number in the series' unit, a percentage of its capacity "
                             "(10%% of its file system's size, its node's memory), or allocatable-memory "
                             "/ allocatable-cpu: what the series' Kubernetes node reported")
    parser.add_argument("--below", nargs="?", const=True, type=threshold, metavar="VALUE",
                        help="the series must fall to the threshold; --below VALUE gives it too, "
                             "e.g. --below 0 or --below 10%%")
    parser.add_argument("--above", type=threshold, metavar="VALUE", help="the series must rise to VALUE")
    parser.add_argument("--horizon", type=duration, default=7 * 86400.0,
                        help="how far ahead to look for one series (default 7d)")
    parser.add_argument("--within", type=duration, default=None,
                        help="fleet-wide: every matching series that crosses within this long, "
                             "soonest first, e.g. --within 24h")
    parser.add_argument("--min-probability", type=float, default=0.5,
                        help="with --within: also list series this likely to cross (default 0.5)")
    parser.add_argument("--aggregate", choices=("sum", "avg", "max", "min"), default="",
                        help="combine every matching series into one first")
    parser.add_argument("--level", type=float, default=80.0,
                        help="interval level for the earliest/latest range (default 80)")
    parser.set_defaults(handler=run)
    return parser
