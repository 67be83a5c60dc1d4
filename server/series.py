"""The series model: a metric name plus labels, as in Prometheus."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
NODE_LABEL = "node"


@dataclass(frozen=True, order=True, slots=True)
class SeriesKey:
    """Identity of a series. Labels are kept sorted so equal series hash equal.

    They are held flat (name, value, name, value, ...): one tuple per key instead of one
    more per label, which a server with hundreds of thousands of series notices.
    """

    metric: str
    flat_labels: tuple[str, ...] = ()

    @classmethod
    def of(cls, metric: str, labels: Mapping[str, str] | None = None) -> SeriesKey:
        return cls(metric, tuple(part for pair in sorted((labels or {}).items()) for part in pair))

    @classmethod
    def interned(cls, metric: str, labels: Mapping[str, str]) -> SeriesKey:
        """A key whose strings are interned: thousands of series share a few metric names,
        label names and values, and each key would otherwise hold its own copies."""
        return cls.of(sys.intern(metric), {sys.intern(n): sys.intern(v) for n, v in labels.items()})

    @property
    def labels(self) -> tuple[tuple[str, str], ...]:
        """(name, value) pairs, sorted by name."""
        return tuple(zip(self.flat_labels[::2], self.flat_labels[1::2], strict=True))

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    @property
    def node(self) -> str | None:
        flat = self.flat_labels
        for position in range(0, len(flat), 2):
            if flat[position] == NODE_LABEL:
                return flat[position + 1]
        return None

    def __str__(self) -> str:
        if not self.labels:
            return self.metric
        inner = ",".join(f'{name}="{_escape(value)}"' for name, value in self.labels)
        return f"{self.metric}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
