"""Descriptors as a stream sends them: checked, each refusal naming the metric and the rule."""

import pytest

from infracast.server.errors import InvalidArgument
from infracast.server.metadata.descriptors import COUNTER, GAUGE, UNSPECIFIED, MetricDescriptor, is_counter
from infracast.server.services.descriptor_validation import DescriptorLimits, checked_descriptors
from infracast.v1 import series_pb2

GAUGE_TYPE = series_pb2.METRIC_TYPE_GAUGE
COUNTER_TYPE = series_pb2.METRIC_TYPE_COUNTER


def sent(metric="node_load1", kind=GAUGE_TYPE, unit="", help_text="1m load average."):
    return series_pb2.MetricDescriptor(metric=metric, type=kind, unit=unit, help=help_text)


def test_valid_descriptors_become_domain_values():
    checked = checked_descriptors([
        sent(),
        sent("node_vmstat_pgfault", COUNTER_TYPE, "", "/proc/vmstat information field pgfault."),
        sent("node_memory_MemTotal_bytes", GAUGE_TYPE, "bytes", "Memory information field MemTotal_bytes."),
        sent("custom:metric", series_pb2.METRIC_TYPE_UNSPECIFIED, "", ""),
    ], "hello")
    assert checked == [
        MetricDescriptor("node_load1", GAUGE, "", "1m load average."),
        MetricDescriptor("node_vmstat_pgfault", COUNTER, "", "/proc/vmstat information field pgfault."),
        MetricDescriptor("node_memory_MemTotal_bytes", GAUGE, "bytes",
                         "Memory information field MemTotal_bytes."),
        MetricDescriptor("custom:metric", UNSPECIFIED, "", ""),
    ]


@pytest.mark.parametrize(("descriptor", "says"), [
    (sent(metric=""), r"hello, metric descriptor 1 \(no metric name\): metric name must match"),
    (sent(metric="1bad"), r"\(1bad\): metric name must match \[a-zA-Z_:\]"),
    (sent(metric="a" * 300), r"the metric name is 300 characters long; at most 256"),
    (sent(kind=7), r"\(node_load1\): unknown type 7: use METRIC_TYPE_GAUGE or METRIC_TYPE_"),
    (sent(unit="Bytes"), r"unit 'Bytes' must be lower case"),
    (sent(unit="by tes"), r"unit 'by tes' must be lower case"),
    (sent(unit="b" * 33), r"unit is 33 characters long; at most 32"),
    (sent(help_text="x" * 513), r"help is 513 characters long; at most 512"),
    (sent(help_text="two\nlines"), r"help must be one line of printable characters"),
])
def test_bad_descriptors_are_refused_saying_which_and_why(descriptor, says):
    with pytest.raises(InvalidArgument, match=says):
        checked_descriptors([sent("node_load5"), descriptor], "hello")


def test_a_metric_described_twice_in_one_message_is_refused():
    with pytest.raises(InvalidArgument, match=r"batch 3, metric descriptor 1 \(node_load1\): described tw"):
        checked_descriptors([sent(), sent(help_text="other")], "batch 3")


def test_too_many_descriptors_in_one_message_are_refused():
    many = [sent(f"m{i}") for i in range(11)]
    ten = DescriptorLimits(max_descriptors_per_message=10)
    with pytest.raises(InvalidArgument, match="hello describes 11 metrics; at most 10"):
        checked_descriptors(many, "hello", ten)
    assert len(checked_descriptors(many[:10], "hello", ten)) == 10


def test_declared_type_decides_counters_and_the_suffix_only_without_one():
    assert is_counter("node_vmstat_pgfault", MetricDescriptor("node_vmstat_pgfault", COUNTER))
    assert not is_counter("node_vmstat_pgfault", None)
    assert not is_counter("weird_total", MetricDescriptor("weird_total", GAUGE))
    assert is_counter("node_forks_total", None)
    assert is_counter("node_forks_total", MetricDescriptor("node_forks_total", UNSPECIFIED, "", "no type"))
    assert not is_counter("up", None)
