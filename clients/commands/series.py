"""`infracast series`: the series a server knows."""

from __future__ import annotations

import argparse

from infracast.clients.client import InfracastClient
from infracast.clients.commands.arguments import command
from infracast.clients.commands.output import Report, Table, iso, when_text
from infracast.clients.units import format_value

EXAMPLES = """
infracast series                                  # every series (the first 1000)
infracast series '{node="n1"}'                    # one node's series
infracast series node_filesystem_avail_bytes -o csv > disks.csv
"""


def run(client: InfracastClient, args: argparse.Namespace) -> Report:
    series, truncated = client.list_series(args.selector, args.limit)
    data = {"series": [
        {"metric": s.series.metric, "labels": s.series.labels, "type": s.type, "unit": s.unit,
         "help": s.help, "sample_count": s.sample_count, "first": iso(s.first), "last": iso(s.last),
         "last_value": s.last_value}
        for s in series], "truncated": truncated}
    # "-": no sender described the metric (the server then goes by the _total suffix).
    rows = [[str(s.series), s.type or "-", s.unit or "-", str(s.sample_count), when_text(s.last),
             format_value(s.series.metric, s.last_value, counter_rate=False, unit=s.unit)] for s in series]
    raw = [[str(s.series), s.type, s.unit, str(s.sample_count), iso(s.first) or "", iso(s.last) or "",
            repr(s.last_value)] for s in series]
    notes = [f"(more series match; showing the first {len(series)}: raise --limit)"] if truncated else []
    return Report(data, tables=[Table(["SERIES", "TYPE", "UNIT", "SAMPLES", "LAST SAMPLE", "LAST VALUE"],
                                      rows, [False, False, False, True, False, True])], notes=notes,
                  csv=Table(["series", "type", "unit", "samples", "first", "last", "last_value"], raw))


def register(commands) -> argparse.ArgumentParser:
    parser = command(commands, "series", "list known series", EXAMPLES)
    parser.add_argument("selector", nargs="?", default="",
                        help='e.g. node_load1 or {node="n1"} (default: all)')
    parser.add_argument("--limit", type=int, default=0, help="at most this many (default 1000)")
    parser.set_defaults(handler=run)
    return parser
