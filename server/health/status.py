"""What the Status RPC reports: the server's identity, its parts' states and its counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from infracast.server.fleet.nodes import NodeInfo


class State(Enum):
    STARTING = "starting"
    READY = "ready"
    DEGRADED = "degraded"
    STOPPING = "stopping"


@dataclass(frozen=True)
class Component:
    name: str
    state: State
    detail: str


@dataclass(frozen=True)
class StatusReport:
    version: str
    profile: str
    started_ms: int
    uptime_s: float
    components: list[Component]
    counts: dict[str, float] = field(default_factory=dict)
    configuration: dict[str, str] = field(default_factory=dict)
    nodes: list[NodeInfo] = field(default_factory=list)
