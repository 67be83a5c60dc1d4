"""`infracast top`: a live view of the fleet, the most urgent node first."""

from __future__ import annotations

import argparse
import sys

from infracast.clients.client import InfracastClient
from infracast.clients.commands.arguments import command, duration
from infracast.clients.commands.spinner import waiting
from infracast.clients.top.fleet import fleet_view
from infracast.clients.top.live import print_once, run_live

EXAMPLES = """
infracast top                                # live, refreshed every 5s; q quits
infracast --server infracast.example:50051 top --within 2d --refresh 10s
infracast top --once | grep exhausted        # one snapshot as plain text
"""


def run(client: InfracastClient, args: argparse.Namespace) -> int:
    def fetch():
        return fleet_view(client, args.within)

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
    parser.set_defaults(interactive=run)
    return parser
