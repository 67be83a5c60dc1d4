"""The wire's MetricType and the server's type words map one to one, read off the generated
enum: a type added to the .proto without a word here (or the reverse) fails."""

from infracast.server.metadata.descriptors import COUNTER, GAUGE, TYPES, UNSPECIFIED, MetricDescriptor
from infracast.server.services.codec import TYPE_FROM_WIRE, descriptor_message
from infracast.v1 import series_pb2


def test_every_wire_type_has_exactly_one_domain_word():
    assert sorted(TYPE_FROM_WIRE.values()) == sorted(TYPES)
    assert TYPE_FROM_WIRE[series_pb2.METRIC_TYPE_COUNTER] == COUNTER
    assert TYPE_FROM_WIRE[series_pb2.METRIC_TYPE_GAUGE] == GAUGE
    assert TYPE_FROM_WIRE[series_pb2.METRIC_TYPE_UNSPECIFIED] == UNSPECIFIED


def test_descriptors_go_back_on_the_wire_as_they_came():
    for number, kind in TYPE_FROM_WIRE.items():
        assert descriptor_message("m", MetricDescriptor("m", kind)).type == number
