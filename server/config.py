"""Server configuration: the only server module that reads the environment.

Every setting is declared once in SETTINGS (type, default, description, profile
defaults); see proto/infracast/common/settings.py for how flags, INFRACAST_* variables and
profiles combine. `infracast-server --print-config` shows the effective values.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from infracast.common.durations import parse_duration
from infracast.common.kubernetes_api import parse_mode as parse_kubernetes_mode
from infracast.common.settings import (
    Setting,
    SettingsError,
    bounded_int,
    choice,
    load,
    parse_bool,
    parse_size,
    render,
)
from infracast.server.rules.definitions import RuleError, load_rules
from infracast.server.security.auth import TokenFileError, parse_tokens

LOG_LEVELS = ("debug", "info", "warning", "error")


def _duration(text: str) -> float:
    seconds = parse_duration(text)
    if seconds <= 0:
        raise ValueError(f"{text!r} must be a positive duration")
    return seconds


def _listen(text: str) -> str:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{text!r} is not HOST:PORT with a port 0-65535")
    return text


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise ValueError(f"{text!r} must be zero or more")
    return value


DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # a namespace's name
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")  # a service account's


def _service_account(text: str) -> str:
    namespace, slash, name = text.partition("/")
    if text and not (slash and DNS_LABEL.match(namespace) and DNS_SUBDOMAIN.match(name)):
        raise ValueError("expected NAMESPACE/NAME of a service account, e.g. infracast/infracast-agent")
    return text


def _optional_listen(text: str) -> str:
    return _listen(text) if text else ""


def _http_url(text: str) -> str:
    if text and not re.match(r"^https?://[^/\s]+", text):
        raise ValueError(f"{text!r} is not an http:// or https:// URL")
    return text.rstrip("/")


SETTINGS = (
    Setting("listen", _listen, "0.0.0.0:50051", "HOST:PORT to serve gRPC on; port 0 picks a free port",
            profile_defaults={"development": "127.0.0.1:50051", "testing": "127.0.0.1:0"}),
    Setting("data_dir", Path, None, "directory of the durable embedded store (none: memory only)",
            profile_defaults={"production": "/var/lib/infracast"}),
    Setting("raw_window", _duration, "6h", "recent history kept at full resolution"),
    Setting("retention", _duration, "14d", "history kept per series, as 5-minute mean and max"),
    Setting("grace_period", _duration, "10s", "time in-flight RPCs get after SIGTERM",
            profile_defaults={"testing": "1s"}),
    Setting("forecast_workers", bounded_int(1, 256), str(max(os.cpu_count() or 1, 1)),
            "threads that run forecasts"),
    Setting("log_level", choice(*LOG_LEVELS), "info", "log verbosity"),
    Setting("log_format", choice("text", "json"), "text", "log lines for people or for collectors",
            profile_defaults={"production": "json"}),
    Setting("log_file", Path, None, "write logs to this file, rotated at 10 MiB (none: stderr)"),
    Setting("max_message_size", parse_size, "4MiB", "largest gRPC message accepted"),
    Setting("max_concurrent_rpcs", bounded_int(1, 100_000), "2000",
            "queries and other RPCs served at once, agent streams and health checks apart; more "
            "get RESOURCE_EXHAUSTED"),
    Setting("max_streams", bounded_int(1, 1_000_000), "5000",
            "agent Push streams served at once: one per agent, so the nodes a replica serves plus "
            "a margin (each costs ~73 KiB); more get RESOURCE_EXHAUSTED and retry"),
    Setting("stream_idle_timeout", _duration, "5m",
            "an agent stream without a batch for this long is closed (keep it well above the "
            "agents' interval)"),
    Setting("max_labels", bounded_int(1, 256), "32", "labels per series"),
    Setting("max_label_length", bounded_int(16, 65_536), "1024", "characters per label value"),
    Setting("max_metric_name_length", bounded_int(16, 65_536), "256", "characters per metric name"),
    Setting("max_label_name_length", bounded_int(16, 65_536), "256", "characters per label name"),
    Setting("max_series_per_agent", bounded_int(1, 10_000_000), "20000", "series one agent may create"),
    Setting("max_series", bounded_int(1, 100_000_000), "1000000", "series the server holds in all"),
    Setting("max_metrics_per_node", bounded_int(1, 100_000), "5000",
            "metric names one node-bound token (one agent's) may describe first; the registry holds "
            "100000 in all"),
    Setting("max_future_skew", _duration, "10m", "how far ahead of the server's clock a sample may be"),
    Setting("metrics_listen", _optional_listen, "",
            "HOST:PORT for Prometheus /metrics (empty: off)",
            profile_defaults={"production": "0.0.0.0:9464"}),
    Setting("tls_cert", Path, None, "PEM certificate chain of the server (TLS on when set with tls_key)"),
    Setting("tls_key", Path, None, "PEM private key of the server", secret=True),
    Setting("tls_client_ca", Path, None, "PEM CA bundle that signs client certificates (mutual TLS)"),
    Setting("tls_client_auth", choice("none", "optional", "required"), "none",
            "whether clients must present a certificate signed by tls_client_ca"),
    Setting("tokens_file", Path, None,
            "bearer tokens, one '<token> <ingest,query> [node]' per line; none: no authentication"),
    Setting("rate_limit", _non_negative_float, "50", "queries per second per client (0: no limit)"),
    Setting("rate_limit_burst", _non_negative_float, "100", "queries a client may make at once"),
    Setting("health_listen", _optional_listen, "",
            "HOST:PORT for a plaintext health-only port (for kubelet probes when TLS is on)"),
    Setting("otlp_endpoint", str, "", "OTLP/gRPC endpoint for traces and metrics, e.g. "
            "http://otel-collector:4317 (empty: no export)"),
    Setting("kubernetes", parse_kubernetes_mode, "auto",
            "list the cluster's nodes to tell which have no agent: auto (when a cluster is "
            "found), on (required), off"),
    Setting("agent_service_account", _service_account, "",
            "NAMESPACE/NAME: agents authenticate with that service account's projected tokens, "
            "checked by Kubernetes TokenReview and bound to their pod's node (empty: off)"),
    Setting("store", choice("embedded", "prometheus"), "embedded",
            "where samples live: embedded (this process and its data directory) or prometheus "
            "(a Prometheus-compatible TSDB: remote write in, PromQL out; replicas hold no state)"),
    Setting("prometheus_url", _http_url, "",
            "base URL of the PromQL API, e.g. http://prometheus:9090 or "
            "http://vmselect:8481/select/0/prometheus (store=prometheus)"),
    Setting("prometheus_write_url", _http_url, "",
            "remote-write URL (empty: PROMETHEUS_URL + /api/v1/write), e.g. "
            "http://vminsert:8480/insert/0/prometheus/api/v1/write"),
    Setting("prometheus_bearer_token_file", Path, None,
            "file holding the bearer token sent to the TSDB (read at each request: rotation works)"),
    Setting("prometheus_username", str, "", "basic-auth user for the TSDB"),
    Setting("prometheus_password_file", Path, None, "file holding the TSDB's basic-auth password"),
    Setting("prometheus_ca", Path, None, "PEM CA bundle that signs the TSDB's certificate"),
    Setting("prometheus_step", _duration, "15s",
            "resolution of recent history read by PromQL (at least the scrape interval)"),
    Setting("prometheus_timeout", _duration, "10s", "time one TSDB request may take"),
    Setting("prometheus_cache_series", bounded_int(0, 10_000_000), "2000",
            "windows of recently read series kept per replica, up to ~90 KB each at the default "
            "windows (0: no cache)"),
    Setting("rules_file", Path, None,
            "forecast rules (YAML) evaluated every RULES_INTERVAL into infracast_* series on /metrics "
            "and, with store=prometheus, remote-written (none: no rules)"),
    Setting("rules_interval", _duration, "1m", "time between rounds of rule evaluation"),
    Setting("replica_name", str, "",
            "this replica's name among those sharing the rules' work (empty: host name and process id)"),
    Setting("allow_insecure", parse_bool, "false",
            "let the production profile run without TLS and authentication"),
)


@dataclass(frozen=True)
class ServerConfig:
    profile: str = "development"
    listen: str = "0.0.0.0:50051"
    data_dir: Path | None = None
    raw_window_s: float = 6 * 3600.0
    retention_s: float = 14 * 86400.0
    grace_period_s: float = 10.0
    forecast_workers: int = max(os.cpu_count() or 1, 1)
    log_level: str = "info"
    log_format: str = "text"
    log_file: Path | None = None
    max_message_bytes: int = 4 * 1024 * 1024
    max_concurrent_rpcs: int = 2000
    max_streams: int = 5000
    stream_idle_timeout_s: float = 300.0
    max_labels: int = 32
    max_label_length: int = 1024
    max_metric_name_length: int = 256
    max_label_name_length: int = 256
    max_series_per_agent: int = 20_000
    max_series: int = 1_000_000
    max_metrics_per_node: int = 5_000
    max_future_skew_s: float = 600.0
    metrics_listen: str = ""
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    tls_client_auth: str = "none"
    health_listen: str = ""
    tokens_file: Path | None = None
    rate_limit: float = 50.0
    rate_limit_burst: float = 100.0
    otlp_endpoint: str = ""
    kubernetes: str = "auto"
    agent_service_account: str = ""
    store: str = "embedded"
    prometheus_url: str = ""
    prometheus_write_url: str = ""
    prometheus_bearer_token_file: Path | None = None
    prometheus_username: str = ""
    prometheus_password_file: Path | None = None
    prometheus_ca: Path | None = None
    prometheus_step_s: float = 15.0
    prometheus_timeout_s: float = 10.0
    prometheus_cache_series: int = 2000
    rules_file: Path | None = None
    rules_interval_s: float = 60.0
    replica_name: str = ""
    allow_insecure: bool = False

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None and self.tls_key is not None


_RENAMED = {"raw_window": "raw_window_s", "retention": "retention_s", "grace_period": "grace_period_s",
            "max_message_size": "max_message_bytes", "max_future_skew": "max_future_skew_s",
            "stream_idle_timeout": "stream_idle_timeout_s",
            "prometheus_step": "prometheus_step_s", "prometheus_timeout": "prometheus_timeout_s",
            "rules_interval": "rules_interval_s"}


def load_config(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> ServerConfig:
    """Flags, then INFRACAST_* variables, then profile defaults; exits 2 with a message on error."""
    env = os.environ if env is None else env

    def extra(parser):
        parser.add_argument("--print-config", action="store_true",
                            help="print the effective configuration (secrets redacted) and exit")

    profile, values, args = load(SETTINGS, argv, env, "infracast-server",
                                 "infracast server: ingests agent metrics and answers forecasts over gRPC.",
                                 extra)
    if args.print_config:
        print(render(SETTINGS, values, profile))
        raise SystemExit(0)
    config = ServerConfig(profile=profile, **{_RENAMED.get(k, k): v for k, v in values.items()})
    try:
        check_profile(config)
    except SettingsError as error:
        print(f"infracast-server: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    return config


def check_profile(config: ServerConfig) -> None:
    """Refuse incomplete or unsafe combinations."""
    if (config.tls_cert is None) != (config.tls_key is None):
        raise SettingsError("INFRACAST_TLS_CERT and INFRACAST_TLS_KEY must be set together")
    for name in ("tls_cert", "tls_key", "tls_client_ca"):
        path = getattr(config, name)
        if path is not None and not path.is_file():
            raise SettingsError(f"INFRACAST_{name.upper()}: {path} is not a readable file")
    if config.tls_client_auth != "none" and config.tls_client_ca is None:
        raise SettingsError("INFRACAST_TLS_CLIENT_AUTH needs INFRACAST_TLS_CLIENT_CA")
    if config.tls_client_auth != "none" and not config.tls:
        raise SettingsError("INFRACAST_TLS_CLIENT_AUTH needs TLS (INFRACAST_TLS_CERT, INFRACAST_TLS_KEY)")
    if config.tokens_file is not None:
        try:
            parse_tokens(config.tokens_file.read_text(), f"INFRACAST_TOKENS_FILE {config.tokens_file}")
        except OSError as error:
            raise SettingsError(f"INFRACAST_TOKENS_FILE: cannot read {config.tokens_file}: "
                                f"{error.strerror}") from None
        except TokenFileError as error:
            raise SettingsError(str(error)) from None
    if config.agent_service_account and config.tokens_file is None:
        raise SettingsError("INFRACAST_AGENT_SERVICE_ACCOUNT needs INFRACAST_TOKENS_FILE too: query "
                            "clients authenticate with its tokens")
    if config.agent_service_account and config.kubernetes == "off":
        raise SettingsError("INFRACAST_AGENT_SERVICE_ACCOUNT needs the Kubernetes API, but "
                            "INFRACAST_KUBERNETES=off")
    _check_store(config)
    if config.rules_file is not None:
        try:
            load_rules(config.rules_file)
        except RuleError as error:
            raise SettingsError(f"INFRACAST_RULES_FILE: {error}") from None
    missing = [what for what, present in (("TLS", config.tls), ("authentication", config.tokens_file))
               if not present]
    if config.profile == "production" and missing and not config.allow_insecure:
        raise SettingsError(
            f"the production profile refuses to serve without {' and '.join(missing)}; set "
            "INFRACAST_TLS_CERT/INFRACAST_TLS_KEY and INFRACAST_TOKENS_FILE, or "
            "INFRACAST_ALLOW_INSECURE=true to run it behind a trusted network")




def _check_store(config: ServerConfig) -> None:
    if config.store == "embedded":
        given = [name for name in ("prometheus_url", "prometheus_write_url") if getattr(config, name)]
        if given:
            raise SettingsError(f"INFRACAST_{given[0].upper()} is set but INFRACAST_STORE=embedded; "
                                "set INFRACAST_STORE=prometheus to use the TSDB")
        return
    if not config.prometheus_url:
        raise SettingsError("INFRACAST_STORE=prometheus needs INFRACAST_PROMETHEUS_URL (the PromQL API)")
    if config.prometheus_bearer_token_file is not None and config.prometheus_username:
        raise SettingsError("give INFRACAST_PROMETHEUS_BEARER_TOKEN_FILE or INFRACAST_PROMETHEUS_USERNAME "
                            "(basic auth), not both")
    if bool(config.prometheus_username) != (config.prometheus_password_file is not None):
        raise SettingsError("INFRACAST_PROMETHEUS_USERNAME and INFRACAST_PROMETHEUS_PASSWORD_FILE "
                            "go together")
    for name in ("prometheus_bearer_token_file", "prometheus_password_file", "prometheus_ca"):
        path = getattr(config, name)
        if path is not None and not path.is_file():
            raise SettingsError(f"INFRACAST_{name.upper()}: {path} is not a readable file")
