"""A metric's descriptor, as node_exporter's HELP and TYPE lines give it, and the counter rule.

Counters are sent raw (monotonic) and answers use their per-second rate. A metric whose
sender declared its type is a counter exactly when declared so (node_vmstat_pgfault is one
without the _total suffix); a metric nobody described falls back to the Prometheus naming
convention, a name ending in _total.
"""

from __future__ import annotations

from dataclasses import dataclass

GAUGE = "gauge"
COUNTER = "counter"
UNSPECIFIED = ""  # not declared: the _total suffix decides
TYPES = (UNSPECIFIED, GAUGE, COUNTER)


@dataclass(frozen=True, slots=True)
class MetricDescriptor:
    metric: str
    type: str = UNSPECIFIED  # one of TYPES
    unit: str = ""  # base unit (bytes, seconds, ratio, ...); empty for counts of things
    help: str = ""


def is_counter(metric: str, descriptor: MetricDescriptor | None) -> bool:
    """Whether answers use the metric's rate: its declared type, else (no descriptor or an
    undeclared type) the _total suffix, the rule every series had before descriptors."""
    if descriptor is not None and descriptor.type != UNSPECIFIED:
        return descriptor.type == COUNTER
    return metric.endswith("_total")
