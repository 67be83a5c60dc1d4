"""Server configuration: the only module that reads the environment.

Every setting is a flag; INFRACAST_<NAME> in the environment supplies its
default, and a flag on the command line wins over both.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from infracast.clients.durations import parse_duration

LOG_LEVELS = ("debug", "info", "warning", "error")


class ConfigError(ValueError):
    """A setting has a value that is not allowed; the message names the setting."""


@dataclass(frozen=True)
class ServerConfig:
    listen: str = "0.0.0.0:50051"
    data_dir: Path | None = None
    retention_s: float = 14 * 86400.0
    raw_window_s: float = 6 * 3600.0
    grace_period_s: float = 10.0
    forecast_workers: int = max(os.cpu_count() or 1, 1)
    log_level: str = "info"


def _duration(name: str):
    def parse(text: str) -> float:
        try:
            seconds = parse_duration(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"{name}: {error}") from None
        if seconds <= 0:
            raise argparse.ArgumentTypeError(f"{name}: must be positive, got {text!r}")
        return seconds

    return parse


def _parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    defaults = ServerConfig()
    parser = argparse.ArgumentParser(
        prog="infracast-server",
        description="infracast server: ingests agent metrics and answers forecasts over gRPC. "
        "Each flag can also be set as INFRACAST_<FLAG> in the environment.",
    )
    parser.add_argument(
        "--listen", default=env.get("INFRACAST_LISTEN", defaults.listen),
        help="HOST:PORT to serve gRPC on; port 0 picks a free port (default %(default)s)",
    )
    parser.add_argument(
        "--data-dir", default=env.get("INFRACAST_DATA_DIR"),
        help="directory for what the store keeps on disk (created if missing)",
    )
    parser.add_argument(
        "--retention", type=_duration("--retention (INFRACAST_RETENTION)"),
        default=env.get("INFRACAST_RETENTION", "14d"),
        help="how much history to keep per series, as 5-minute mean/max (default %(default)s)",
    )
    parser.add_argument(
        "--raw-window", type=_duration("--raw-window (INFRACAST_RAW_WINDOW)"),
        default=env.get("INFRACAST_RAW_WINDOW", "6h"),
        help="how much recent history to keep at full resolution (default %(default)s)",
    )
    parser.add_argument(
        "--grace-period", type=_duration("--grace-period (INFRACAST_GRACE_PERIOD)"),
        default=env.get("INFRACAST_GRACE_PERIOD", "10s"),
        help="how long in-flight RPCs may run after SIGTERM (default %(default)s)",
    )
    parser.add_argument(
        "--forecast-workers", type=int,
        default=env.get("INFRACAST_FORECAST_WORKERS", str(defaults.forecast_workers)),
        help="threads that run forecasts (default: one per core, %(default)s)",
    )
    parser.add_argument(
        "--log-level", choices=LOG_LEVELS, default=env.get("INFRACAST_LOG_LEVEL", "info"),
        help="log verbosity (default %(default)s)",
    )
    return parser


def load_config(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> ServerConfig:
    """Build the configuration from flags and environment; argparse exits 2 on a bad value."""
    env = os.environ if env is None else env
    parser = _parser(env)
    args = parser.parse_args(argv)
    try:
        workers = int(args.forecast_workers)
    except ValueError:
        parser.error(f"--forecast-workers must be a whole number, got {args.forecast_workers!r}")
    if workers < 1:
        parser.error(f"--forecast-workers must be at least 1, got {workers}")
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        parser.error(f"--listen must be HOST:PORT with a port 0-65535, got {args.listen!r}")
    if args.log_level not in LOG_LEVELS:
        parser.error(f"INFRACAST_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    return ServerConfig(
        listen=args.listen,
        data_dir=Path(args.data_dir) if args.data_dir else None,
        retention_s=args.retention,
        raw_window_s=args.raw_window,
        grace_period_s=args.grace_period,
        forecast_workers=workers,
        log_level=args.log_level,
    )
