"""The nodes the server knows: from agents' hellos, and from the cluster's node list.

Agents report their node's labels and allocatable CPU and memory when they connect; the
cluster's list (when the server can read it) tells which nodes have no agent at all.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class NodeInfo:
    name: str
    open_streams: int = 0
    last_connected_ms: int = 0
    agent_version: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    allocatable_cpu_cores: float = 0.0
    allocatable_memory_bytes: float = 0.0
    in_cluster: bool = False


class NodeRegistry:
    """Thread-safe: streams connect on the event loop, the cluster list refreshes on a thread."""

    def __init__(self) -> None:
        self._agents: dict[str, NodeInfo] = {}
        self._cluster: frozenset[str] | None = None  # None: the cluster list is not known
        self._lock = threading.Lock()

    def connected(self, name: str, agent_version: str, labels: dict[str, str],
                  allocatable_cpu_cores: float, allocatable_memory_bytes: float) -> None:
        with self._lock:
            node = self._agents.setdefault(name, NodeInfo(name))
            node.open_streams += 1
            node.last_connected_ms = int(time.time() * 1000)
            node.agent_version = agent_version
            # A stream without metadata (a backfill, an agent outside Kubernetes) keeps
            # what an earlier hello of this node reported.
            node.labels = labels or node.labels
            node.allocatable_cpu_cores = allocatable_cpu_cores or node.allocatable_cpu_cores
            node.allocatable_memory_bytes = allocatable_memory_bytes or node.allocatable_memory_bytes

    def disconnected(self, name: str) -> None:
        """Count one stream of the node closed."""
        with self._lock:
            node = self._agents.get(name)
            if node is not None:
                node.open_streams = max(node.open_streams - 1, 0)

    def set_cluster_nodes(self, names: frozenset[str]) -> None:
        with self._lock:
            self._cluster = names

    def get(self, name: str) -> NodeInfo | None:
        with self._lock:
            node = self._agents.get(name)
            return None if node is None else NodeInfo(**vars(node))

    def snapshot(self) -> list[NodeInfo]:
        """Every node with an agent, then cluster nodes without one, by name."""
        with self._lock:
            cluster = self._cluster or frozenset()
            nodes = {name: NodeInfo(**vars(node)) for name, node in self._agents.items()}
            for name in cluster:
                nodes.setdefault(name, NodeInfo(name))
            for name, node in nodes.items():
                node.in_cluster = name in cluster
        return [nodes[name] for name in sorted(nodes)]

    @property
    def cluster_size(self) -> int:
        with self._lock:
            return len(self._cluster or ())

    def without_agent(self) -> list[str] | None:
        """Cluster nodes that no agent has connected from; None when the cluster list is unknown."""
        with self._lock:
            if self._cluster is None:
                return None
            return sorted(name for name in self._cluster
                          if name not in self._agents or not self._agents[name].open_streams)
