"""Metric descriptors as a Push stream sends them (Hello.metrics, Batch.metrics), checked
without grpc and turned into domain values; anything wrong refuses the whole message with
INVALID_ARGUMENT naming the metric, the rule and its limit."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from infracast.server.errors import InvalidArgument, quoted
from infracast.server.metadata.descriptors import MetricDescriptor
from infracast.server.series import METRIC_NAME
from infracast.server.services.codec import TYPE_FROM_WIRE
from infracast.v1 import series_pb2

# Units as Prometheus names' suffixes write them: bytes, seconds, ratio, celsius, joules.
UNIT = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class DescriptorLimits:
    # An agent describes a few hundred metrics; node_exporter with every collector ~1,500.
    max_descriptors_per_message: int = 10_000
    max_metric_name_length: int = 256
    max_unit_length: int = 32
    max_help_length: int = 512


DEFAULT_DESCRIPTOR_LIMITS = DescriptorLimits()


def checked_descriptors(sent: Sequence[series_pb2.MetricDescriptor], where: str,
                        limits: DescriptorLimits = DEFAULT_DESCRIPTOR_LIMITS) -> list[MetricDescriptor]:
    """The descriptors of one message (`where` names it: "hello", "batch 7"), validated."""
    if len(sent) > limits.max_descriptors_per_message:
        raise InvalidArgument(
            f"{where} describes {len(sent)} metrics; at most {limits.max_descriptors_per_message} "
            "are allowed in one message: send the rest in later batches")
    checked: dict[str, MetricDescriptor] = {}
    for position, descriptor in enumerate(sent):
        metric = descriptor.metric
        name = quoted(metric, quotes=False) or "no metric name"

        def refuse(why: str, name: str = name, position: int = position) -> InvalidArgument:
            return InvalidArgument(f"{where}, metric descriptor {position} ({name}): {why}")

        if len(metric) > limits.max_metric_name_length:
            raise refuse(f"the metric name is {len(metric)} characters long; at most "
                         f"{limits.max_metric_name_length} are allowed")
        if not METRIC_NAME.match(metric):
            raise refuse("metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*")
        if metric in checked:
            raise refuse("described twice in one message; describe each metric once")
        kind = TYPE_FROM_WIRE.get(descriptor.type)
        if kind is None:
            raise refuse(f"unknown type {descriptor.type}: use METRIC_TYPE_GAUGE or METRIC_TYPE_COUNTER")
        unit = descriptor.unit
        if len(unit) > limits.max_unit_length:
            raise refuse(f"unit is {len(unit)} characters long; at most {limits.max_unit_length} "
                         "are allowed (a base unit such as bytes, seconds or ratio)")
        if unit and not UNIT.match(unit):
            raise refuse(f"unit {quoted(unit)} must be lower case letters, digits and _ "
                         "(a base unit such as bytes, seconds or ratio), or empty")
        help_text = descriptor.help
        if len(help_text) > limits.max_help_length:
            raise refuse(f"help is {len(help_text)} characters long; at most "
                         f"{limits.max_help_length} are allowed (one line saying what it measures)")
        if not help_text.isprintable():
            raise refuse("help must be one line of printable characters (no newlines or control "
                         "characters)")
        checked[metric] = MetricDescriptor(metric, kind, unit, help_text)
    return list(checked.values())
