"""Agent configuration: the only agent module that reads the environment.

Flags win over INFRACAST_* variables, which win over the defaults.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

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
    buffer_max_bytes: int = 64 * 1024 * 1024
    spool_dir: Path | None = None
    log_level: str = "info"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?\s*$")
_SIZE_UNITS = {None: 1, "B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3,
               "KB": 1000, "MB": 1000**2, "GB": 1000**3}


def parse_size(text: str) -> int:
    """Bytes in '64MiB', '500KB' or a plain number of bytes."""
    found = _SIZE.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a size: use e.g. 64MiB, 500KB or a number of bytes")
    return int(float(found.group(1)) * _SIZE_UNITS[found.group(2)])


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
    parser.add_argument("--spool-dir", default=env.get("INFRACAST_SPOOL_DIR"),
                        help="keep unacknowledged batches on disk here, across restarts "
                        "(default: memory only)")
    parser.add_argument("--buffer-max-size", default=env.get("INFRACAST_BUFFER_MAX_SIZE", "64MiB"),
                        help="most unacknowledged data to keep before dropping the oldest "
                        "(default %(default)s)")
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
    try:
        buffer_bytes = parse_size(args.buffer_max_size)
    except ValueError as error:
        parser.error(f"--buffer-max-size: {error}")
    if buffer_bytes < 64 * 1024:
        parser.error("--buffer-max-size must be at least 64KiB")
    return AgentConfig(
        server=args.server,
        node=node_name(args.node, env),
        interval_s=interval,
        collectors=collectors,
        host_root=args.host_root,
        max_buffered_batches=args.max_buffered_batches,
        buffer_max_bytes=buffer_bytes,
        spool_dir=Path(args.spool_dir) if args.spool_dir else None,
        log_level=args.log_level,
    )
