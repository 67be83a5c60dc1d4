"""What every collector is: a name and a collect() that returns samples.

The psutil module is an injected field (`ps`) so tests can hand a collector a
stand-in with canned answers, as the OTel hostmetrics scrapers do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Sample:
    """One value of one series at the current sampling instant."""

    metric: str
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)


class Collector(Protocol):
    name: str

    def collect(self) -> list[Sample]:
        """Read the current values; raise if the family cannot be read at all."""
        ...
