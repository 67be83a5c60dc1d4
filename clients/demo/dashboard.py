"""The demo's live table: per node, CPU now and its forecast peak, memory, the soonest exhaustion."""

from __future__ import annotations

import math
from dataclasses import dataclass

from infracast.clients.client import InfracastClient
from infracast.clients.durations import format_duration
from infracast.clients.errors import ClientError, FailedPrecondition, SeriesNotFound
from infracast.clients.table import render_table

CPU = "infracast_node_cpu_utilization_ratio"
MEMORY_AVAILABLE = "node_memory_MemAvailable_bytes"
MEMORY_TOTAL = "node_memory_MemTotal_bytes"
DISK_AVAILABLE = "node_filesystem_avail_bytes"
CPU_PEAK_HORIZON = "15m"


@dataclass(frozen=True)
class NodeRow:
    node: str
    cpu_now: float | None
    cpu_peak: float | None
    memory_used: float | None
    exhaustion: str | None  # "disk /" or "memory"
    exhaustion_in_s: float | None
    probability: float = 0.0  # of the soonest exhaustion within the time looked at
    looked_s: float = 0.0  # how far ahead the exhaustion question could look (history allowing)


def _nodes(client: InfracastClient) -> list[str]:
    series, _ = client.list_series(MEMORY_AVAILABLE, limit=10_000)
    return sorted({s.series.labels.get("node", "") for s in series} - {""})


@dataclass(frozen=True)
class Exhaustion:
    in_s: float | None  # None: not expected within looked_s
    probability: float
    looked_s: float


def _exhaustion(client: InfracastClient, selector: str) -> Exhaustion | None:
    try:
        crossing = client.time_to_threshold(selector, 0.0, falling=True, horizon="7d")
    except (SeriesNotFound, FailedPrecondition):  # unknown yet, or too little history
        return None
    in_s = 0.0 if crossing.already_crossed else crossing.time_remaining_s
    return Exhaustion(in_s, crossing.probability, crossing.searched_s)


def node_row(client: InfracastClient, node: str) -> NodeRow:
    cpu_now = cpu_peak = memory_used = None
    try:
        cpu = client.forecast(f'{CPU}{{node="{node}"}}', horizon=CPU_PEAK_HORIZON, levels=[80.0])
        cpu_now, cpu_peak = cpu.last_value, float(min(max(cpu.mean.max(), 0.0), 1.0))
    except ClientError:
        pass  # too little history yet to look that far ahead
    memory, _ = client.list_series(f'{{__name__=~"{MEMORY_AVAILABLE}|{MEMORY_TOTAL}",node="{node}"}}')
    last = {s.series.metric: s.last_value for s in memory}
    if last.get(MEMORY_TOTAL):
        memory_used = 1 - last.get(MEMORY_AVAILABLE, 0.0) / last[MEMORY_TOTAL]
    candidates = {
        "memory": _exhaustion(client, f'{MEMORY_AVAILABLE}{{node="{node}"}}'),
        "disk /": _exhaustion(client, f'{DISK_AVAILABLE}{{node="{node}",mountpoint="/"}}'),
    }
    known = {name: e for name, e in candidates.items() if e is not None}
    expected = {name: e for name, e in known.items() if e.in_s is not None}
    looked = min((e.looked_s for e in known.values()), default=0.0)
    if not expected:
        return NodeRow(node, cpu_now, cpu_peak, memory_used, None, None, 0.0, looked)
    soonest = min(expected, key=lambda name: expected[name].in_s or 0.0)
    return NodeRow(node, cpu_now, cpu_peak, memory_used, soonest, expected[soonest].in_s,
                   expected[soonest].probability, looked)


def snapshot(client: InfracastClient) -> list[NodeRow]:
    """One row per node, the soonest exhaustion first."""
    rows = [node_row(client, node) for node in _nodes(client)]
    return sorted(rows, key=lambda r: (r.exhaustion_in_s is None, r.exhaustion_in_s or math.inf, r.node))


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def render(rows: list[NodeRow]) -> str:
    table = [[
        row.node,
        _percent(row.cpu_now),
        _percent(row.cpu_peak),
        _percent(row.memory_used),
        f"{row.exhaustion} in {format_duration(row.exhaustion_in_s)} (p {row.probability:.0%})"
        if row.exhaustion and row.exhaustion_in_s is not None
        else f"none within {format_duration(row.looked_s)}" if row.looked_s else "too little history",
    ] for row in rows]
    return render_table(["NODE", "CPU NOW", f"CPU PEAK NEXT {CPU_PEAK_HORIZON} (FORECAST)", "MEMORY USED",
                         "SOONEST EXHAUSTION (PROBABILITY)"],
                        table, [False, True, True, True, False])
