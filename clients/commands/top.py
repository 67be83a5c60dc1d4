"""`infracast top`: a live view of the fleet, the most urgent node first."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from infracast.clients.client import InfracastClient
from infracast.clients.commands.arguments import add_output, command, duration
from infracast.clients.commands.output import Report, Table, emit
from infracast.clients.commands.spinner import waiting
from infracast.clients.top.fleet import FleetView, NodeView, arrange, fleet_view
from infracast.clients.top.live import print_once, run_live

EXAMPLES = """
infracast top                                # live, refreshed every 5s; q quits
infracast --server infracast.example:50051 top --within 2d --refresh 10s
infracast top --once | grep exhausted        # one snapshot as plain text
infracast top -o csv > fleet.csv             # the snapshot for scripts
"""


def _iso(epoch_s: float | None) -> str | None:
    return datetime.fromtimestamp(epoch_s, tz=UTC).isoformat() if epoch_s else None


def _csv_row(v: NodeView) -> list[str]:
    e = v.exhaustion
    return [v.node, *("" if x is None else repr(x) for x in (v.cpu, v.memory_used, v.disk_used)),
            str(v.anomalous).lower(),
            *(["", "", "", ""] if e is None else
              [e.resource, repr(e.in_s), repr(e.probability), _iso(e.at_s) or ""])]


def fleet_report(fleet: FleetView) -> Report:
    """The snapshot for scripts (--output json|csv), most urgent node first."""
    nodes = [{"node": v.node, "cpu": v.cpu, "memory_used": v.memory_used, "disk_used": v.disk_used,
              "anomalous": v.anomalous,
              "cpu_last_hour": [float(x) for x in v.cpu_hour],
              "exhaustion": None if v.exhaustion is None else {
                  "resource": v.exhaustion.resource, "in_seconds": v.exhaustion.in_s,
                  "probability": v.exhaustion.probability, "at": _iso(v.exhaustion.at_s)}}
             for v in arrange(fleet.nodes, "urgency", "all")]
    rows = [_csv_row(v) for v in arrange(fleet.nodes, "urgency", "all")]
    return Report({"nodes": nodes, "within_seconds": fleet.within_s, "problems": fleet.problems},
                  csv=Table(["node", "cpu", "memory_used", "disk_used", "anomalous", "exhaustion",
                             "exhaustion_in_seconds", "exhaustion_probability", "exhaustion_at"], rows))


def run(client: InfracastClient, args: argparse.Namespace) -> int:
    def fetch():
        return fleet_view(client, args.within)

    if args.output != "table":
        with waiting(f"asking {client.target}…"):
            return emit(fleet_report(fetch()), args.output)
    if args.once or not (sys.stdout.isatty() and sys.stdin.isatty()):
        with waiting(f"asking {client.target}…"):
            fleet = fetch()
        print_once(fleet)
        return 0
    return run_live(fetch, args.refresh)


def register(commands) -> argparse.ArgumentParser:
    parser = command(commands, "top", "a live view of every node, the most urgent first", EXAMPLES,
                     "One row per node: CPU, memory and disk used now, the last hour of CPU, and the "
                     "soonest predicted exhaustion of memory or a file system, with its probability. "
                     "Keys: s changes the sort (urgency, cpu, memory, disk, node), f the filter (all, "
                     "at risk, anomalous), / finds nodes by name, q quits.")
    parser.add_argument("--within", type=duration, default=86400.0,
                        help="how far ahead to look for exhaustion (default 24h)")
    parser.add_argument("--refresh", type=duration, default=5.0,
                        help="seconds between refreshes (default 5s)")
    parser.add_argument("--once", action="store_true",
                        help="print one snapshot and exit (the default when not on a terminal)")
    add_output(parser)
    parser.set_defaults(interactive=run)
    return parser
