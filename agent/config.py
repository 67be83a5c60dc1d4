"""Agent configuration: the only agent module that reads the environment.

Flags win over INFRACAST_* variables, which win over the defaults.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from infracast.agent.collectors import FAMILIES
from infracast.agent.identity import node_name
from infracast.clients.durations import parse_duration


@dataclass(frozen=True)
class AgentConfig:
    server: str
    node: str
    interval_s: float = 10.0
    collectors: tuple[str, ...] = tuple(FAMILIES)
    host_root: str = "/"
    max_buffered_batches: int = 360
    log_level: str = "info"


def load_config(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> AgentConfig:
    env = os.environ if env is None else env
    parser = argparse.ArgumentParser(
        prog="infracast-agent",
        description="infracast agent: samples this host's metrics and streams them to the server.",
    )
    parser.add_argument("--server", default=env.get("INFRACAST_SERVER", "127.0.0.1:50051"),
                        help="server HOST:PORT (default %(default)s)")
    parser.add_argument("--node", default=env.get("INFRACAST_NODE"),
                        help="node name (default: $NODE_NAME, else the host name)")
    parser.add_argument("--interval", default=env.get("INFRACAST_INTERVAL", "10s"),
                        help="sampling interval (default %(default)s)")
    parser.add_argument("--collectors", default=env.get("INFRACAST_COLLECTORS", ",".join(FAMILIES)),
                        help="comma-separated metric families to collect (default: all: %(default)s)")
    parser.add_argument("--host-root", default=env.get("INFRACAST_HOST_ROOT", "/"),
                        help="where the host's root file system is mounted, in a container (default /)")
    parser.add_argument("--max-buffered-batches", type=int,
                        default=int(env.get("INFRACAST_MAX_BUFFERED_BATCHES", "360")),
                        help="batches kept while the server is unreachable before the oldest "
                        "is dropped (default %(default)s, one hour at 10s)")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"),
                        default=env.get("INFRACAST_LOG_LEVEL", "info"))
    args = parser.parse_args(argv)
    try:
        interval = parse_duration(args.interval)
    except ValueError as error:
        parser.error(f"--interval: {error}")
    if not 0.1 <= interval <= 3600:
        parser.error(f"--interval must be between 100ms and 1h, got {args.interval}")
    collectors = tuple(name.strip() for name in args.collectors.split(",") if name.strip())
    unknown = sorted(set(collectors) - FAMILIES.keys())
    if unknown:
        parser.error(f"--collectors: unknown {', '.join(unknown)}; known: {', '.join(FAMILIES)}")
    if args.max_buffered_batches < 1:
        parser.error("--max-buffered-batches must be at least 1")
    return AgentConfig(
        server=args.server,
        node=node_name(args.node, env),
        interval_s=interval,
        collectors=collectors,
        host_root=args.host_root,
        max_buffered_batches=args.max_buffered_batches,
        log_level=args.log_level,
    )
