"""This node's Kubernetes metadata for the agent's hello: labels and allocatable resources.

Allocatable is what the kubelet lets pods use (capacity minus system reservations and
the eviction threshold), so the server can tell when a node runs out of it, not only of
physical memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# Labels are kept with the node on the server, not copied onto every series; still,
# a node with hundreds of labels should not make every hello large.
MAX_LABELS = 64


@dataclass(frozen=True)
class NodeMetadata:
    labels: dict[str, str] = field(default_factory=dict)
    allocatable_cpu_cores: float = 0.0
    allocatable_memory_bytes: float = 0.0


def read_node_metadata(api: Any, node: str) -> NodeMetadata | None:
    """GET /api/v1/nodes/{node} through the official client; None (logged) when it fails."""
    from kubernetes.client.exceptions import ApiException
    from kubernetes.utils import parse_quantity

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
    labels = dict(sorted((found.metadata.labels or {}).items())[:MAX_LABELS])
    allocatable = (found.status.allocatable if found.status else None) or {}

    def quantity(resource: str) -> float:  # "3920m" -> 3.92, "16283716Ki" -> bytes
        return float(parse_quantity(allocatable[resource])) if resource in allocatable else 0.0

    return NodeMetadata(labels, quantity("cpu"), quantity("memory"))
