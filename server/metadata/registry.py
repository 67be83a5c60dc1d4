"""The descriptors of every metric the server has been told about, by metric name.

Agents send their descriptors in every stream's hello (and new ones in batches), so the
same descriptors arrive again and again: a descriptor equal to the one held costs a dict
lookup and is not written. A changed one is committed to the metadata log (when there is
one) before record() returns, so an acknowledged hello or batch has its descriptors on disk.

Who may say what a metric means (README, "Every metric carries its meaning"):

- A fleet-wide sender (a token not bound to a node, or no authentication) may redeclare a
  metric: the last declaration wins (one that leaves the type undeclared keeps the held
  type), and a change of type is logged as a warning naming both, since it changes how
  answers treat the metric (rates for counters, values for gauges).
- A node-bound sender (one agent's credential) may introduce up to max_metrics_per_node
  new metric names, declare a type where none is held, and change help text, but may not
  change the type or unit of a metric whose type is declared: fleet-wide meaning is not one
  agent's to change. Its conflicting descriptors and those over its quota are left out,
  logged with the sender and counted by reason (`refusals`); the rest of the message stands.

Every sender together is held to max_metrics names: past it the message is refused whole.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

from infracast.server.errors import ResourceExhausted
from infracast.server.metadata.descriptors import UNSPECIFIED, MetricDescriptor, is_counter

log = logging.getLogger(__name__)

# Far above any exporter's metric names (node_exporter with every collector: ~1,500); a
# sender inventing names without end is refused rather than let grow the registry.
MAX_METRICS = 100_000
# Names one node-bound sender may introduce: node_exporter with every collector and room
# for textfile metrics, far below MAX_METRICS so that no one agent can fill the registry.
MAX_METRICS_PER_NODE = 5_000

# Why a node-bound sender's descriptor was left out (the `reason` of `refusals`).
TYPE_CONFLICT = "type_conflict"
UNIT_CONFLICT = "unit_conflict"
NODE_QUOTA = "node_quota"
REFUSAL_REASONS = (TYPE_CONFLICT, UNIT_CONFLICT, NODE_QUOTA)


class DescriptorLog(Protocol):
    def load(self) -> list[tuple[MetricDescriptor, str]]:
        """Every stored descriptor with the node that introduced it ("" if fleet-wide)."""
        ...

    def write(self, descriptors: list[MetricDescriptor], introduced_by: str) -> None:
        """Store the descriptors; a metric new to the log records `introduced_by`."""
        ...

    def close(self) -> None: ...


class MetricRegistry:
    def __init__(self, durable: DescriptorLog | None = None, max_metrics: int = MAX_METRICS,
                 max_metrics_per_node: int = MAX_METRICS_PER_NODE) -> None:
        self._held: dict[str, MetricDescriptor] = {}
        self._durable = durable
        self._max_metrics = max_metrics
        self._max_metrics_per_node = max_metrics_per_node
        self._introduced: Counter[str] = Counter()  # names introduced, by node-bound sender's node
        self.refusals: Counter[str] = Counter({reason: 0 for reason in REFUSAL_REASONS})
        self._writing = asyncio.Lock()  # one commit at a time, in the order they were asked

    def replay(self) -> int:
        """Load the durable descriptors (at start, before ingest is served); how many."""
        if self._durable is not None:
            rows = self._durable.load()
            self._held = {descriptor.metric: descriptor for descriptor, _ in rows}
            self._introduced = Counter(node for _, node in rows if node)
        return len(self._held)

    def get(self, metric: str) -> MetricDescriptor | None:
        return self._held.get(metric)

    def is_counter(self, metric: str) -> bool:
        return is_counter(metric, self._held.get(metric))

    def __len__(self) -> int:
        return len(self._held)

    def snapshot(self) -> dict[str, MetricDescriptor]:
        return dict(self._held)

    async def record(self, descriptors: Iterable[MetricDescriptor], sender: str,
                     node: str | None = None) -> int:
        """Hold (and commit, when durable) the descriptors that differ from those held;
        returns how many changed. `node` is the node a node-bound sender's credential is
        bound to (None: a fleet-wide sender). Raises ResourceExhausted past max_metrics,
        and what the log raises when it cannot commit (store.base.CommitFailed)."""
        sent = list(descriptors)
        if not any(self._held.get(d.metric) != d for d in map(self._with_held_type, sent)):
            return 0
        async with self._writing:  # what is held now, after any stream in between
            if node is not None:
                sent = self._allowed_to_node(sent, sender, node)
            changed = [d for d in map(self._with_held_type, sent) if self._held.get(d.metric) != d]
            new = sum(1 for d in changed if d.metric not in self._held)
            if len(self._held) + new > self._max_metrics:
                raise ResourceExhausted(
                    f"the server holds descriptors of {len(self._held)} metrics; {sender} sent {new} "
                    f"more, over the limit of {self._max_metrics} metric names")
            if changed and self._durable is not None:
                await asyncio.to_thread(self._durable.write, changed, node or "")
            if node is not None:
                self._introduced[node] += new
            for descriptor in changed:
                self._note_redefinition(descriptor, sender)
                self._held[descriptor.metric] = descriptor
        return len(changed)

    def _allowed_to_node(self, sent: list[MetricDescriptor], sender: str,
                         node: str) -> list[MetricDescriptor]:
        """What a node-bound sender may say: its new names within its quota, and no change
        to the declared type or unit of a held metric."""
        allowed: list[MetricDescriptor] = []
        room = self._max_metrics_per_node - self._introduced[node]
        over_quota: list[str] = []
        for descriptor in sent:
            held = self._held.get(descriptor.metric)
            if held is None:
                if room > 0:
                    allowed.append(descriptor)
                    room -= 1
                else:
                    over_quota.append(descriptor.metric)
            elif held.type == UNSPECIFIED:
                allowed.append(descriptor)
            elif descriptor.type not in (UNSPECIFIED, held.type):
                self._refuse(TYPE_CONFLICT, held.metric, f"a {held.type}", f"a {descriptor.type}",
                             sender, node)
            elif descriptor.unit != held.unit:
                self._refuse(UNIT_CONFLICT, held.metric, _unit(held.unit), _unit(descriptor.unit),
                             sender, node)
            else:
                allowed.append(descriptor)
        if over_quota:
            self.refusals[NODE_QUOTA] += len(over_quota)
            log.warning("%s (bound to node %s) may introduce at most %d metric names "
                        "(max_metrics_per_node): %d more left undescribed, e.g. %s; their series "
                        "are stored and treated by the _total suffix rule", sender, node,
                        self._max_metrics_per_node, len(over_quota), over_quota[0])
        return allowed

    def _refuse(self, reason: str, metric: str, held_meaning: str, sent_meaning: str,
                sender: str, node: str) -> None:
        self.refusals[reason] += 1
        log.warning("metric %s is declared %s; %s (bound to node %s) declared it %s: kept as %s "
                    "(only a sender not bound to a node may redeclare a metric fleet-wide)",
                    metric, held_meaning, sender, node, sent_meaning, held_meaning)

    def _with_held_type(self, descriptor: MetricDescriptor) -> MetricDescriptor:
        """An undeclared type (proto3's default, from a sender that does not know it) does not
        undo a declared one: the metric keeps being treated as declared."""
        held = self._held.get(descriptor.metric)
        if descriptor.type != UNSPECIFIED or held is None or held.type == UNSPECIFIED:
            return descriptor
        return replace(descriptor, type=held.type)

    def _note_redefinition(self, descriptor: MetricDescriptor, sender: str) -> None:
        held = self._held.get(descriptor.metric)
        if held is None or held.type == descriptor.type or UNSPECIFIED in (held.type, descriptor.type):
            return
        log.warning("metric %s was declared a %s and is now declared a %s by %s; the last "
                    "declaration wins: answers now treat it as a %s", descriptor.metric, held.type,
                    descriptor.type, sender, descriptor.type)

    def close(self) -> None:
        if self._durable is not None:
            self._durable.close()


def _unit(unit: str) -> str:
    return f"in {unit}" if unit else "without a unit"
