"""Agent configuration: the only agent module that reads the environment.

Settings are declared once in SETTINGS (see proto/infracast/common/settings.py): flags win over
INFRACAST_* variables, which win over profile defaults and then the defaults.
The node name also falls back to NODE_NAME (the Kubernetes downward API).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from infracast.agent.collectors import DEFAULT_FAMILIES, FAMILIES, resolve_families
from infracast.agent.identity import node_name
from infracast.common.channels import TlsOptions
from infracast.common.durations import parse_duration
from infracast.common.kubernetes_api import parse_mode as parse_kubernetes_mode
from infracast.common.settings import Setting, bounded_int, choice, load, parse_bool, parse_size, render


def _interval(text: str) -> float:
    seconds = parse_duration(text)
    if not 0.1 <= seconds <= 3600:
        raise ValueError(f"{text!r} is not between 100ms and 1h")
    return seconds


def _collectors(text: str) -> tuple[str, ...]:
    return resolve_families([name.strip() for name in text.split(",") if name.strip()])


def _buffer_size(text: str) -> int:
    size = parse_size(text)
    if size < 64 * 1024:
        raise ValueError(f"{text!r} is below the minimum of 64KiB")
    return size


SETTINGS = (
    Setting("server", str, "127.0.0.1:50051", "server HOST:PORT"),
    Setting("node", str, None, "node name (default: $NODE_NAME, else the host name)"),
    Setting("interval", _interval, "10s", "sampling interval"),
    Setting("collectors", _collectors, ",".join(DEFAULT_FAMILIES),
            f"comma-separated metric families, of {','.join(FAMILIES)}"),
    Setting("host_root", str, "/", "where the host's root file system is mounted, in a container"),
    Setting("procfs", str, "/proc", "where the host's /proc is mounted, in a container"),
    Setting("sysfs", str, "/sys", "where the host's /sys is mounted, in a container"),
    Setting("kubernetes", parse_kubernetes_mode, "auto",
            "read this node's labels and allocatable resources from the Kubernetes API: "
            "auto (when a cluster is found), on (required), off"),
    Setting("max_buffered_batches", bounded_int(1, 1_000_000), "360",
            "batches kept while the server is unreachable before the oldest is dropped"),
    Setting("buffer_max_size", _buffer_size, "64MiB",
            "most unacknowledged data kept before the oldest is dropped"),
    Setting("spool_dir", Path, None, "keep unacknowledged batches on disk here, across restarts"),
    Setting("token_file", Path, None, "file holding the bearer token (re-read on every reconnect)"),
    Setting("tls", parse_bool, "false", "connect to the server with TLS (implied by tls_ca)"),
    Setting("tls_ca", Path, None, "CA bundle that signs the server's certificate (default: system roots)"),
    Setting("tls_cert", Path, None, "client certificate, for servers that require mutual TLS"),
    Setting("tls_key", Path, None, "client private key", secret=True),
    Setting("log_level", choice("debug", "info", "warning", "error"), "info", "log verbosity"),
    Setting("log_format", choice("text", "json"), "text", "log lines for people or for collectors",
            profile_defaults={"production": "json"}),
)


@dataclass(frozen=True)
class AgentConfig:
    server: str
    node: str
    interval_s: float = 10.0
    collectors: tuple[str, ...] = DEFAULT_FAMILIES
    host_root: str = "/"
    procfs: str = "/proc"
    sysfs: str = "/sys"
    kubernetes: str = "auto"
    max_buffered_batches: int = 360
    buffer_max_bytes: int = 64 * 1024 * 1024
    spool_dir: Path | None = None
    tls: TlsOptions | None = None
    token_file: Path | None = None
    log_level: str = "info"
    log_format: str = "text"


def load_config(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> AgentConfig:
    env = os.environ if env is None else env

    def extra(parser):
        parser.add_argument("--print-config", action="store_true",
                            help="print the effective configuration and exit")

    profile, values, args = load(SETTINGS, argv, env, "infracast-agent",
                                 "infracast agent: samples this host's metrics and streams them.", extra)
    if args.print_config:
        print(render(SETTINGS, values, profile))
        raise SystemExit(0)
    return AgentConfig(
        server=values["server"],
        node=node_name(values["node"], env),
        interval_s=values["interval"],
        collectors=values["collectors"],
        host_root=values["host_root"],
        procfs=values["procfs"],
        sysfs=values["sysfs"],
        kubernetes=values["kubernetes"],
        max_buffered_batches=values["max_buffered_batches"],
        buffer_max_bytes=values["buffer_max_size"],
        spool_dir=values["spool_dir"],
        tls=(TlsOptions(values["tls_ca"], values["tls_cert"], values["tls_key"])
             if values["tls"] or values["tls_ca"] or values["tls_cert"] else None),
        token_file=values["token_file"],
        log_level=values["log_level"],
        log_format=values["log_format"],
    )
