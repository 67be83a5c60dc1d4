"""The descriptors of every metric the server has been told about, by metric name.

Agents send their descriptors in every stream's hello (and new ones in batches), so the
same descriptors arrive again and again: a descriptor equal to the one held costs a dict
lookup and is not written. A changed one is committed to the metadata log (when there is
one) before record() returns, so an acknowledged hello or batch has its descriptors on disk.

A conflicting redefinition (another type, unit or help for a metric) replaces the held one:
the last declaration wins (one that leaves the type undeclared keeps the held type), and a
change of type is logged as a warning naming both, since it changes how answers treat the
metric (rates for counters, values for gauges).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

from infracast.server.errors import ResourceExhausted
from infracast.server.metadata.descriptors import UNSPECIFIED, MetricDescriptor, is_counter

log = logging.getLogger(__name__)

# Far above any exporter's metric names (node_exporter with every collector: ~1,500); a
# sender inventing names without end is refused rather than let grow the registry.
MAX_METRICS = 100_000


class DescriptorLog(Protocol):
    def load(self) -> list[MetricDescriptor]: ...
    def write(self, descriptors: list[MetricDescriptor]) -> None: ...
    def close(self) -> None: ...


class MetricRegistry:
    def __init__(self, durable: DescriptorLog | None = None, max_metrics: int = MAX_METRICS) -> None:
        self._held: dict[str, MetricDescriptor] = {}
        self._durable = durable
        self._max_metrics = max_metrics
        self._writing = asyncio.Lock()  # one commit at a time, in the order they were asked

    def replay(self) -> int:
        """Load the durable descriptors (at start, before ingest is served); how many."""
        if self._durable is not None:
            self._held = {d.metric: d for d in self._durable.load()}
        return len(self._held)

    def get(self, metric: str) -> MetricDescriptor | None:
        return self._held.get(metric)

    def is_counter(self, metric: str) -> bool:
        return is_counter(metric, self._held.get(metric))

    def __len__(self) -> int:
        return len(self._held)

    def snapshot(self) -> dict[str, MetricDescriptor]:
        return dict(self._held)

    async def record(self, descriptors: Iterable[MetricDescriptor], sender: str) -> int:
        """Hold (and commit, when durable) the descriptors that differ from those held;
        returns how many changed. Raises ResourceExhausted past max_metrics, and what the
        log raises when it cannot commit (store.base.CommitFailed)."""
        sent = list(descriptors)
        if not any(self._held.get(d.metric) != d for d in map(self._with_held_type, sent)):
            return 0
        async with self._writing:  # what is held now, after any stream in between
            changed = [d for d in map(self._with_held_type, sent) if self._held.get(d.metric) != d]
            new = sum(1 for d in changed if d.metric not in self._held)
            if len(self._held) + new > self._max_metrics:
                raise ResourceExhausted(
                    f"the server holds descriptors of {len(self._held)} metrics; {sender} sent {new} "
                    f"more, over the limit of {self._max_metrics} metric names")
            if changed and self._durable is not None:
                await asyncio.to_thread(self._durable.write, changed)
            for descriptor in changed:
                self._note_redefinition(descriptor, sender)
                self._held[descriptor.metric] = descriptor
        return len(changed)

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
