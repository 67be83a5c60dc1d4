"""This node's Kubernetes metadata for the agent's hello: labels and allocatable resources.

Allocatable is what the kubelet lets pods use (capacity minus system reservations and
the eviction threshold), so the server can tell when a node runs out of it, not only of
physical memory.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infracast.agent.node_over_https import (
    InClusterNodeApi,
    NodeReadError,
    in_cluster_node_api,
    parse_quantity,
)
from infracast.common.kubernetes_api import SERVICE_ACCOUNT_DIR, Connection, connect

log = logging.getLogger(__name__)

# Labels are kept with the node on the server, not copied onto every series; still,
# a node with hundreds of labels should not make every hello large.
MAX_LABELS = 64


@dataclass(frozen=True)
class NodeMetadata:
    labels: dict[str, str] = field(default_factory=dict)
    allocatable_cpu_cores: float = 0.0
    allocatable_memory_bytes: float = 0.0


def connect_to_node_api(mode: str, env: Mapping[str, str] = os.environ,
                        service_account_dir: Path = SERVICE_ACCOUNT_DIR) -> Connection:
    """In a pod, a plain HTTPS reader of the Node (see node_over_https.py); elsewhere the
    official client through a kubeconfig, as the server connects."""
    if mode != "off":
        api = in_cluster_node_api(env, service_account_dir)
        if api is not None:
            return Connection(api, "in-cluster service account")
    return connect(mode, env, service_account_dir)


def _metadata(labels: Mapping[str, str], allocatable: Mapping[str, str]) -> NodeMetadata:
    def quantity(resource: str) -> float:  # "3920m" -> 3.92, "16283716Ki" -> bytes
        return parse_quantity(allocatable[resource]) if resource in allocatable else 0.0

    return NodeMetadata(dict(sorted(labels.items())[:MAX_LABELS]), quantity("cpu"), quantity("memory"))


def read_node_metadata(api: Any, node: str) -> NodeMetadata | None:
    """GET /api/v1/nodes/{node}, plainly in a pod or through the official client; None
    (logged) when it fails."""
    if isinstance(api, InClusterNodeApi):
        try:
            found = api.read_node(node)
        except NodeReadError as error:
            log.warning("cannot read Kubernetes node %r (%s %s): sending no node labels or "
                        "allocatable resources", node, error.status, error.reason)
            return None
        except (OSError, ValueError) as error:
            log.warning("cannot reach the Kubernetes API (%s): sending no node labels or "
                        "allocatable resources", error)
            return None
        return _metadata(found.get("metadata", {}).get("labels") or {},
                         found.get("status", {}).get("allocatable") or {})
    from kubernetes.client.exceptions import ApiException

    try:
        found = api.read_node(node, _request_timeout=10)
    except ApiException as error:
        log.warning("cannot read Kubernetes node %r (%s %s): sending no node labels or "
                    "allocatable resources", node, error.status, error.reason)
        return None
    except OSError as error:
        log.warning("cannot reach the Kubernetes API (%s): sending no node labels or "
                    "allocatable resources", error)
        return None
    return _metadata(found.metadata.labels or {}, (found.status.allocatable if found.status else None) or {})
