"""The series model: a metric name plus labels, as in Prometheus."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
NODE_LABEL = "node"


@dataclass(frozen=True, order=True)
class SeriesKey:
    """Identity of a series. Labels are kept sorted so equal series hash equal."""

    metric: str
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, metric: str, labels: Mapping[str, str] | None = None) -> SeriesKey:
        return cls(metric, tuple(sorted((labels or {}).items())))

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    @property
    def is_counter(self) -> bool:
        """Counters are sent raw; their forecasts describe the per-second rate."""
        return self.metric.endswith("_total")

    def __str__(self) -> str:
        if not self.labels:
            return self.metric
        inner = ",".join(f'{name}="{_escape(value)}"' for name, value in self.labels)
        return f"{self.metric}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
