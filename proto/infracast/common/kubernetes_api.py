"""Reaching the Kubernetes API with the official client: in the cluster with the pod's
service account, else from a kubeconfig, else not at all.

The client is imported only once one of those exists: importing it costs ~30 MiB, which
a server or agent on a plain host should not pay.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infracast.common.settings import choice

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
MODES = ("auto", "on", "off")
parse_mode = choice(*MODES)


@dataclass(frozen=True)
class Connection:
    api: Any | None  # kubernetes.client.CoreV1Api
    how: str  # how it was reached, or why not


def connect(mode: str, env: Mapping[str, str] = os.environ,
            service_account_dir: Path = SERVICE_ACCOUNT_DIR) -> Connection:
    """CoreV1Api per `mode`: "off" never tries; "auto" and "on" try in-cluster, then kubeconfig.

    In a pod, the service account's token and CA are in `service_account_dir` and the API
    server's address in KUBERNETES_SERVICE_HOST/PORT. Returns a Connection without api (and
    the reason) when neither way is there or loading fails; the caller decides whether that
    is fatal ("on") or worth one log line ("auto").
    """
    if mode == "off":
        return Connection(None, "Kubernetes awareness is off (INFRACAST_KUBERNETES=off)")
    token = service_account_dir / "token"
    if env.get("KUBERNETES_SERVICE_HOST") and token.exists():
        from kubernetes import client, config
        from kubernetes.config.incluster_config import InClusterConfigLoader

        configuration = client.Configuration()
        try:
            InClusterConfigLoader(str(token), str(service_account_dir / "ca.crt"),
                                  environ=env).load_and_set(configuration)
        except config.ConfigException as error:
            return Connection(None, f"in-cluster configuration failed: {error}")
        return Connection(client.CoreV1Api(client.ApiClient(configuration)), "in-cluster service account")
    for path in _kubeconfig_paths(env):
        if path.is_file():
            from kubernetes import client, config

            try:
                api_client = config.new_client_from_config(config_file=str(path))
            except (config.ConfigException, OSError, ValueError) as error:
                return Connection(None, f"kubeconfig {path} could not be loaded: {error}")
            return Connection(client.CoreV1Api(api_client), f"kubeconfig {path}")
    return Connection(None, "not in a cluster (no service account) and no kubeconfig")


def _kubeconfig_paths(env: Mapping[str, str]) -> list[Path]:
    if env.get("KUBECONFIG"):
        return [Path(p).expanduser() for p in env["KUBECONFIG"].split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]
