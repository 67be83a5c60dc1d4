"""The descriptors (type, unit, help) of the metrics a collection holds that no earlier
collection did, as the Push stream sends them: each metric once, the first time it appears."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.descriptors import describe
from infracast.v1 import series_pb2

log = logging.getLogger(__name__)


class MetricDescriber:
    def __init__(self) -> None:
        self._seen: set[str] = set()

    def new_descriptors(self, samples: Iterable[Sample]) -> list[series_pb2.MetricDescriptor]:
        """Descriptors of the metrics among `samples` not seen before (usually none: a set
        difference per collection)."""
        fresh = {sample.metric for sample in samples} - self._seen
        if not fresh:
            return []
        self._seen |= fresh
        found = []
        for metric in sorted(fresh):
            description = describe(metric)
            if description is None:
                log.warning("no descriptor for metric %s: the server treats it as a %s by its name",
                            metric, "counter" if metric.endswith("_total") else "gauge")
                continue
            found.append(series_pb2.MetricDescriptor(
                metric=metric, unit=description.unit, help=description.help,
                type=f"METRIC_TYPE_{description.type.upper()}"))  # the generated enum's name
        return found
