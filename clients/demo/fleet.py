"""A simulated fleet: nodes whose metrics follow realistic shapes.

Every node has a daily CPU cycle with noise; a few misbehave in the ways SREs
are paged for: a disk filling steadily, a memory leak since a deploy, a CPU burst.
Values are a pure function of the node's profile and the time, so the back-filled
history and the live samples continue each other.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from infracast.agent.batches import BatchBuilder

DAY_S = 86400.0
GIB = 1024.0 ** 3
ROOT_FS = {"device": "/dev/nvme0n1p1", "mountpoint": "/", "fstype": "ext4"}


@dataclass(frozen=True)
class NodeProfile:
    name: str
    behaviour: str  # steady | disk_fill | memory_leak | cpu_burst
    cpus: int
    cpu_base: float
    cpu_amplitude: float
    phase: float  # fraction of a day
    memory_total: float
    memory_used: float  # fraction, before any leak
    disk_size: float
    disk_used: float  # fraction at the demo's start
    disk_growth_per_h: float  # fraction of the disk per hour
    leak_per_h: float  # fraction of memory per hour, after the leak started
    seed: int


def build_fleet(count: int, start_s: float) -> list[NodeProfile]:
    """`count` nodes; three of them (when there are three) disk_fill, memory_leak, cpu_burst."""
    rng = random.Random(20261129)
    specials = ["disk_fill", "memory_leak", "cpu_burst"]
    positions = [2, 5, 9] if count >= 10 else list(range(min(3, count)))
    nodes = []
    for i in range(count):
        behaviour = specials[positions.index(i)] if i in positions else "steady"
        nodes.append(NodeProfile(
            name=f"sim-node-{i + 1:02d}",
            behaviour=behaviour,
            cpus=rng.choice([4, 8, 16]),
            cpu_base=rng.uniform(0.2, 0.45),
            cpu_amplitude=rng.uniform(0.08, 0.2),
            phase=rng.uniform(0, 1),
            memory_total=rng.choice([16, 32, 64]) * GIB,
            memory_used=rng.uniform(0.35, 0.6),
            disk_size=rng.choice([100, 200, 500]) * GIB,
            # The filling disk is 85 % full and gains ~0.8 %/h: full in under a day.
            disk_used=0.85 if behaviour == "disk_fill" else rng.uniform(0.3, 0.6),
            disk_growth_per_h=0.008 if behaviour == "disk_fill" else rng.uniform(0.0, 0.0005),
            # A leak since the history began adds 1 %/h: memory runs out within a day.
            leak_per_h=0.01 if behaviour == "memory_leak" else 0.0,
            seed=rng.randrange(1 << 30),
        ))
    return nodes


class SimulatedNode:
    """Computes a node's metric values at any time (seconds since the epoch)."""

    def __init__(self, profile: NodeProfile, start_s: float) -> None:
        self.profile = profile
        self.start_s = start_s
        self._rng = random.Random(profile.seed)

    def cpu(self, t: float) -> float:
        p = self.profile
        daily = p.cpu_amplitude * math.sin(2 * math.pi * (t / DAY_S + p.phase))
        value = p.cpu_base + daily + self._rng.gauss(0, 0.03)
        # The burst node has been pegged since half an hour before the demo began.
        if p.behaviour == "cpu_burst" and t >= self.start_s - 1800:
            value = 0.93 + self._rng.gauss(0, 0.02)
        return min(max(value, 0.0), 1.0)

    def memory_available(self, t: float) -> float:
        p = self.profile
        used = p.memory_used + 0.03 * math.sin(2 * math.pi * (t / DAY_S + p.phase))
        # The leaking node starts low and has leaked steadily since the history began.
        if p.leak_per_h:
            used += p.leak_per_h * (t - self.start_s) / 3600 + 0.3
        used += self._rng.gauss(0, 0.004)
        return max(p.memory_total * (1 - min(used, 1.0)), 0.0)

    def disk_available(self, t: float) -> float:
        p = self.profile
        used = p.disk_used + p.disk_growth_per_h * (t - self.start_s) / 3600
        # Writes arrive in bursts; small clean-ups now and then.
        used += abs(self._rng.gauss(0, 0.0004)) - 0.0002
        return max(p.disk_size * (1 - min(used, 1.0)), 0.0)

    def add_samples(self, builder: BatchBuilder, times_s: list[float]) -> None:
        """Append every metric of this node at the given times to a batch."""
        p = self.profile
        ms = [int(t * 1000) for t in times_s]
        cpu = [self.cpu(t) for t in times_s]
        builder.add_points("infracast_node_cpu_utilization_ratio", {}, ms, cpu)
        builder.add_points("node_load1", {}, ms,
                           [max(c * p.cpus * 1.1 + self._rng.gauss(0, 0.2), 0.0) for c in cpu])
        builder.add_points("node_memory_MemTotal_bytes", {}, ms, [p.memory_total] * len(ms))
        builder.add_points("node_memory_MemAvailable_bytes", {}, ms,
                           [self.memory_available(t) for t in times_s])
        builder.add_points("node_filesystem_size_bytes", ROOT_FS, ms, [p.disk_size] * len(ms))
        builder.add_points("node_filesystem_avail_bytes", ROOT_FS, ms,
                           [self.disk_available(t) for t in times_s])
