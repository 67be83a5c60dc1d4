"""`infracast status` and `infracast health`: the server itself."""

from __future__ import annotations

import argparse

from infracast.clients.client import InfracastClient
from infracast.clients.commands.arguments import command
from infracast.clients.commands.output import Report, Table, iso, when_text
from infracast.common.durations import format_duration

HEALTH_SERVICES = ("", "infracast.v1.IngestService", "infracast.v1.ForecastService")

STATUS_EXAMPLES = """
infracast status                       # exits 1 unless every component is ready
infracast --server infracast.example:50051 status -o json | jq .counts
"""

HEALTH_EXAMPLES = """
infracast health
infracast health --service infracast.v1.ForecastService   # readiness of the prediction RPCs
"""


def status(client: InfracastClient, args: argparse.Namespace) -> Report:
    s = client.status()
    data = {"version": s.version, "profile": s.profile, "started": iso(s.started),
            "uptime_seconds": s.uptime_s,
            "components": {name: {"state": state, "detail": detail}
                           for name, (state, detail) in s.components.items()},
            "counts": s.counts, "configuration": s.configuration,
            "nodes": [{**vars(n), "last_connected": iso(n.last_connected)} for n in s.nodes]}
    components = Table(["COMPONENT", "STATE", "DETAIL"],
                       [[name, state, detail] for name, (state, detail) in s.components.items()])
    counts = [[name, f"{value:g}"] for name, value in s.counts.items()]
    tables = [components, Table(["COUNT", "VALUE"], counts, [False, True])]
    notes = []
    if s.nodes:
        # Nodes that need a look: in the cluster without an agent, or whose agent went away.
        # All of them, with labels and allocatable resources, are in the JSON.
        missing = [n for n in s.nodes if not n.agent_connected]
        notes.append(f"nodes: {len(s.nodes) - len(missing)} with an agent connected, {len(missing)} without")
        tables.append(Table(["NODE", "IN CLUSTER", "AGENT LAST CONNECTED"],
                            [[n.name, "yes" if n.in_cluster else "-",
                              when_text(n.last_connected) if n.last_connected else "never"]
                             for n in missing]))
    healthy = all(state == "ready" for state, _ in s.components.values())
    rows = ([["component", name, state, detail] for name, (state, detail) in s.components.items()]
            + [["count", name, repr(value), ""] for name, value in s.counts.items()])
    return Report(data, lines=[f"infracast {s.version} ({s.profile}) at {client.target}, up "
                               f"{format_duration(s.uptime_s)} since {when_text(s.started)}"],
                  tables=tables, notes=notes, csv=Table(["kind", "name", "value", "detail"], rows),
                  exit_code=0 if healthy else 1)


def health(client: InfracastClient, args: argparse.Namespace) -> Report:
    services = [args.service] if args.service is not None else list(HEALTH_SERVICES)
    statuses = {name: client.health(name) for name in services}
    return Report({"server": client.target, "services": statuses},
                  tables=[Table(["SERVICE", "STATUS"],
                                [[name or "(server)", state] for name, state in statuses.items()])],
                  exit_code=0 if all(state == "SERVING" for state in statuses.values()) else 1)


def register(commands) -> list[argparse.ArgumentParser]:
    status_parser = command(commands, "status", "version, uptime, component states and counts",
                            STATUS_EXAMPLES)
    status_parser.set_defaults(handler=status)
    health_parser = command(commands, "health", "check the server's health and readiness", HEALTH_EXAMPLES)
    health_parser.add_argument("--service", default=None,
                               help="one service name ('' for the whole server); default: all")
    health_parser.set_defaults(handler=health)
    return [status_parser, health_parser]
