"""The demo's live table: per node, CPU now and its forecast peak, memory, the soonest exhaustion."""

from __future__ import annotations

import math
from dataclasses import dataclass

from infracast.clients.client import InfracastClient
from infracast.clients.durations import format_duration
from infracast.clients.errors import ClientError, SeriesNotFound
from infracast.clients.table import render_table

CPU = "infracast_node_cpu_utilization_ratio"
MEMORY_AVAILABLE = "node_memory_MemAvailable_bytes"
MEMORY_TOTAL = "node_memory_MemTotal_bytes"
DISK_AVAILABLE = "node_filesystem_avail_bytes"


@dataclass(frozen=True)
class NodeRow:
    node: str
    cpu_now: float | None
    cpu_peak: float | None
    memory_used: float | None
    exhaustion: str | None  # "disk /" or "memory"
    exhaustion_in_s: float | None


def _nodes(client: InfracastClient) -> list[str]:
    series, _ = client.list_series(MEMORY_AVAILABLE, limit=10_000)
    return sorted({s.series.labels.get("node", "") for s in series} - {""})


def _exhaustion(client: InfracastClient, selector: str) -> float | None:
    try:
        crossing = client.time_to_threshold(selector, 0.0, falling=True, horizon="7d")
    except SeriesNotFound:
        return None
    if crossing.already_crossed:
        return 0.0
    return crossing.time_remaining_s


def node_row(client: InfracastClient, node: str) -> NodeRow:
    cpu_now = cpu_peak = memory_used = None
    try:
        cpu = client.forecast(f'{CPU}{{node="{node}"}}', horizon="1h", levels=[80.0])
        cpu_now, cpu_peak = cpu.last_value, float(min(max(cpu.mean.max(), 0.0), 1.0))
    except ClientError:
        pass  # the real agent needs two samples before it can report utilisation
    memory, _ = client.list_series(f'{{__name__=~"{MEMORY_AVAILABLE}|{MEMORY_TOTAL}",node="{node}"}}')
    last = {s.series.metric: s.last_value for s in memory}
    if last.get(MEMORY_TOTAL):
        memory_used = 1 - last.get(MEMORY_AVAILABLE, 0.0) / last[MEMORY_TOTAL]
    candidates = {
        "memory": _exhaustion(client, f'{MEMORY_AVAILABLE}{{node="{node}"}}'),
        "disk /": _exhaustion(client, f'{DISK_AVAILABLE}{{node="{node}",mountpoint="/"}}'),
    }
    known = {name: s for name, s in candidates.items() if s is not None}
    soonest = min(known, key=known.__getitem__) if known else None
    return NodeRow(node, cpu_now, cpu_peak, memory_used, soonest,
                   known[soonest] if soonest else None)


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
        f"{row.exhaustion} in {format_duration(row.exhaustion_in_s)}"
        if row.exhaustion and row.exhaustion_in_s is not None else "none within 7d",
    ] for row in rows]
    return render_table(["NODE", "CPU NOW", "CPU PEAK (1h)", "MEMORY USED", "SOONEST EXHAUSTION"],
                        table, [False, True, True, True, False])
