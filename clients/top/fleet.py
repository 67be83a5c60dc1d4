"""One row per node: current CPU, memory and disk, the last hour of CPU, the soonest exhaustion.

Built from few calls whatever the fleet's size: one ListSeries for every current value,
one fleet-wide ListThresholdCrossings per resource, and one DetectAnomalies per node
for its last hour (in parallel), which also says whether that hour held an anomaly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from infracast.clients.client import InfracastClient, ThresholdCrossing
from infracast.clients.errors import ClientError, SeriesNotFound

CPU = "infracast_node_cpu_utilization_ratio"
MEMORY_AVAILABLE = "node_memory_MemAvailable_bytes"
MEMORY_TOTAL = "node_memory_MemTotal_bytes"
DISK_AVAILABLE = "node_filesystem_avail_bytes"
DISK_SIZE = "node_filesystem_size_bytes"
CURRENT = (CPU, MEMORY_AVAILABLE, MEMORY_TOTAL, DISK_AVAILABLE, DISK_SIZE)
# Running out: the available amount falling to nothing.
RESOURCES = {"memory": MEMORY_AVAILABLE, "disk": DISK_AVAILABLE}


@dataclass(frozen=True)
class Exhaustion:
    resource: str  # "memory", or "disk /mountpoint"
    in_s: float  # 0 when already exhausted
    probability: float
    at_s: float | None  # epoch seconds of the expected crossing


@dataclass
class NodeView:
    node: str
    cpu: float | None = None  # ratios in [0, 1]
    memory_used: float | None = None
    disk_used: float | None = None  # the fullest file system
    cpu_hour: np.ndarray = field(default_factory=lambda: np.array([]))
    anomalous_hour: np.ndarray = field(default_factory=lambda: np.array([], dtype=bool))
    exhaustion: Exhaustion | None = None
    unjudged: bool = False  # a resource of the node could not be looked at as far as asked

    @property
    def anomalous(self) -> bool:
        return bool(self.anomalous_hour.any())


@dataclass(frozen=True)
class FleetView:
    nodes: list[NodeView]
    within_s: float
    problems: list[str]  # questions the server could not answer, shown under the table


def _resource_name(crossing: ThresholdCrossing, resource: str) -> str:
    mountpoint = crossing.series.labels.get("mountpoint")
    return f"{resource} {mountpoint}" if mountpoint else resource


def _soonest(client: InfracastClient, within_s: float, problems: list[str],
             unjudged: set[str]) -> dict[str, Exhaustion]:
    """Each node's soonest exhaustion; nodes the server could not judge that far go to unjudged."""
    soonest: dict[str, Exhaustion] = {}
    for resource, metric in RESOURCES.items():
        token = ""
        while True:
            try:
                page = client.threshold_crossings(metric, 0.0, falling=True, within=within_s,
                                                  page_token=token)
            except SeriesNotFound:
                break  # no such series on this server: nothing to run out
            except ClientError as error:
                problems.append(f"{resource} exhaustion: {error}")
                break
            unjudged.update(series.labels.get("node", "") for series, _ in page.skipped)
            for c in page.crossings:
                node = c.series.labels.get("node", "")
                in_s = 0.0 if c.already_crossed else c.time_remaining_s
                if in_s is None:
                    continue
                found = Exhaustion(_resource_name(c, resource), in_s, c.probability,
                                   c.expected.timestamp() if c.expected else None)
                if node not in soonest or in_s < soonest[node].in_s:
                    soonest[node] = found
            token = page.next_page_token
            if not token:
                break
    return soonest


def _current(client: InfracastClient) -> dict[str, NodeView]:
    names = "|".join(CURRENT)
    series, _ = client.list_series(f'{{__name__=~"{names}"}}', limit=10_000)
    values: dict[tuple[str, str], dict[tuple, float]] = {}
    for s in series:
        node = s.series.labels.get("node")
        if node:
            rest = tuple(sorted((k, v) for k, v in s.series.labels.items() if k != "node"))
            values.setdefault((node, s.series.metric), {})[rest] = s.last_value
    nodes: dict[str, NodeView] = {}
    for node in sorted({node for node, _ in values}):
        view = NodeView(node)
        cpu = values.get((node, CPU))
        view.cpu = next(iter(cpu.values())) if cpu else None
        available, total = values.get((node, MEMORY_AVAILABLE), {}), values.get((node, MEMORY_TOTAL), {})
        if available and total and next(iter(total.values())) > 0:
            view.memory_used = 1 - next(iter(available.values())) / next(iter(total.values()))
        sizes, free = values.get((node, DISK_SIZE), {}), values.get((node, DISK_AVAILABLE), {})
        used = [1 - free[fs] / size for fs, size in sizes.items() if fs in free and size > 0]
        view.disk_used = max(used) if used else None
        nodes[node] = view
    return nodes


def _last_hour(client: InfracastClient, view: NodeView) -> None:
    try:
        hour = client.detect_anomalies(f'{CPU}{{node="{view.node}"}}', "1h")
    except ClientError:
        return  # too little history yet, or no CPU series: the row shows no sparkline
    view.cpu_hour = np.asarray(hour.values, dtype=float)
    # DetectAnomalies is being reworked (issue 12): without per-point flags the row is simply not marked.
    flags = getattr(hour, "anomalous", None)
    usable = flags is not None and len(flags) == len(view.cpu_hour)
    view.anomalous_hour = np.asarray(flags if usable else np.zeros(len(view.cpu_hour)), dtype=bool)


def fleet_view(client: InfracastClient, within_s: float = 86400.0, workers: int = 4) -> FleetView:
    problems: list[str] = []
    nodes = _current(client)
    unjudged: set[str] = set()
    for node, exhaustion in _soonest(client, within_s, problems, unjudged).items():
        nodes.setdefault(node, NodeView(node)).exhaustion = exhaustion
    for node in unjudged & nodes.keys():
        nodes[node].unjudged = True
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda v: _last_hour(client, v), nodes.values()))
    return FleetView(list(nodes.values()), within_s, problems)


def urgency(view: NodeView) -> tuple:
    """Soonest exhaustion first, then nodes with an anomaly, then the busiest CPU."""
    e = view.exhaustion
    return (e is None, e.in_s if e else math.inf, not view.anomalous, -(view.cpu or 0.0), view.node)


SORTS: dict[str, Callable[[NodeView], tuple]] = {
    "urgency": urgency,
    "cpu": lambda v: (-(v.cpu if v.cpu is not None else -1.0), v.node),
    "memory": lambda v: (-(v.memory_used if v.memory_used is not None else -1.0), v.node),
    "disk": lambda v: (-(v.disk_used if v.disk_used is not None else -1.0), v.node),
    "node": lambda v: (v.node,),
}
FILTERS: dict[str, Callable[[NodeView], bool]] = {
    "all": lambda v: True,
    "at risk": lambda v: v.exhaustion is not None,
    "anomalous": lambda v: v.anomalous,
}


def arrange(views: list[NodeView], sort: str, show: str, text: str = "") -> list[NodeView]:
    chosen = [v for v in views if FILTERS[show](v) and text.lower() in v.node.lower()]
    return sorted(chosen, key=SORTS[sort])
