"""Push batches read from their bytes (numba kernel + known keys) give what protobuf and
decode_batch give: the same writes, gaps and new series, the same errors for the same
series, and protobuf's own verdict on anything the kernel does not read."""

import random
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infracast.server.errors import InvalidArgument
from infracast.server.series import SeriesKey
from infracast.server.services.push_validation import IngestLimits, decode_batch, parsed_request
from infracast.server.services.wire_batch import KnownKeys, read_batch
from infracast.server.services.wire_kernels import NOT_READ, READ, read_push_batch
from infracast.v1 import ingest_pb2, series_pb2
from tests.protobuf_wire import field, varint

NOW_MS = 1_800_000_000_000
LIMITS = IngestLimits()


def request(*series: series_pb2.SeriesSamples, sequence: int = 7) -> bytes:
    batch = ingest_pb2.Batch(sequence=sequence, series=series)
    return ingest_pb2.PushRequest(batch=batch).SerializeToString()


def samples(metric: str, times: list[int], values: list[float], **labels: str) -> series_pb2.SeriesSamples:
    return series_pb2.SeriesSamples(key=series_pb2.SeriesKey(metric=metric, labels=labels),
                                    timestamps_ms=times, values=values)


def reference(data: bytes, node: str = "n1", held=lambda key: False):
    """What the protobuf path answers: (sequence, writes, gaps, new keys) or the error text."""
    try:
        parsed = parsed_request(data)
        if parsed.WhichOneof("message") is None:
            raise InvalidArgument("after the hello, each message must hold a batch; this one is empty")
        if parsed.WhichOneof("message") != "batch":
            raise InvalidArgument("hello may be sent only once, as the first message")
        if parsed.batch.sequence == 0:
            raise InvalidArgument("batch.sequence must be 1 or more: an ack of 0 means nothing is stored yet")
        decoded = decode_batch(parsed.batch, node, LIMITS, NOW_MS, held)
    except InvalidArgument as error:
        return str(error)
    return parsed.batch.sequence, summary(decoded)


def summary(decoded):
    return ([(w.key, w.timestamps_ms.tolist(), w.values.tolist()) for w in decoded.writes],
            decoded.gaps, decoded.new_keys)


def ours(data: bytes, known: KnownKeys | None = None, node: str = "n1", held=lambda key: False):
    try:
        sequence, decoded = read_batch(data, node, LIMITS, known or KnownKeys(1000), NOW_MS, held)
    except InvalidArgument as error:
        return str(error)
    return sequence, summary(decoded)


def test_the_kernel_reads_columns_and_key_spans():
    data = request(samples("a", [NOW_MS - 1, NOW_MS], [1.5, -2.0], i="0"), samples("b", [NOW_MS], [3.0]),
                   series_pb2.SeriesSamples(), sequence=2**64 - 1)
    status, sequence, spans, time_ends, value_ends, times, values = \
        read_push_batch(np.frombuffer(data, np.uint8))
    assert status == READ and sequence % 2**64 == 2**64 - 1
    assert [series_pb2.SeriesKey.FromString(data[s:e]).metric for s, e in spans.tolist()] == ["a", "b", ""]
    assert time_ends.tolist() == value_ends.tolist() == [2, 3, 3]
    assert times.tolist() == [NOW_MS - 1, NOW_MS, NOW_MS] and values.tolist() == [1.5, -2.0, 3.0]


def test_writes_gaps_and_new_series_match_decode_batch():
    data = request(samples("a", [NOW_MS - 2000, NOW_MS - 1000], [1.0, 2.0], i="0"),
                   samples("b", [NOW_MS], [float("nan")], i="1"),
                   samples("c", [NOW_MS - 500, NOW_MS], [3.0, float("nan")], i="2"),
                   samples("a", [NOW_MS - 3000], [0.5], i="0"))
    assert ours(data) == reference(data)
    _, (writes, gaps, _) = ours(data)
    assert gaps == 2 and [len(times) for _, times, _ in writes] == [2, 0, 1, 1]


@pytest.mark.parametrize("bad", [
    samples("c", [NOW_MS + 3_600_000], [1.0]),
    samples("c", [NOW_MS - 20 * 86_400_000], [1.0]),
    samples("c", [0], [1.0]),
    samples("c", [-5], [1.0]),
    samples("c", [NOW_MS], [float("inf")]),
    samples("c", [NOW_MS, NOW_MS - 1], [1.0]),
    samples("c", [NOW_MS], [1.0, 2.0]),
    samples("9c", [NOW_MS], [1.0]),
    samples("c", [NOW_MS], [1.0], __name__="x"),
    samples("c", [NOW_MS], [1.0], node="n2"),
    samples("c" * 300, [NOW_MS], [1.0]),
    samples("c", [NOW_MS], [1.0], **{f"l{i}": "v" for i in range(40)}),
    series_pb2.SeriesSamples(timestamps_ms=[NOW_MS], values=[1.0]),
])
def test_the_same_series_and_rule_are_named(bad):
    # A later series breaks a rule too: the first at fault is named.
    data = request(samples("a", [NOW_MS], [1.0]), bad, samples("d", [NOW_MS + 7_200_000], [1.0]))
    answer = ours(data)
    assert isinstance(answer, str) and "series 1 (" in answer
    assert answer == reference(data)


def test_a_known_series_costs_a_lookup_and_a_new_byte_form_parses_once():
    known = KnownKeys(1000)
    first = request(samples("a", [NOW_MS - 1000], [1.0], x="1", y="2"))
    _, decoded = read_batch(first, "n1", LIMITS, known, NOW_MS)
    assert decoded.new_keys == [SeriesKey.of("a", {"x": "1", "y": "2", "node": "n1"})]
    first_form = decoded.learned[0][0]
    known.learn(decoded)

    def never(key):
        raise AssertionError(f"{key} was looked up in the store although the stream knows it")

    _, again = read_batch(request(samples("a", [NOW_MS], [2.0], x="1", y="2"), sequence=8), "n1", LIMITS,
                          known, NOW_MS, held=never)
    assert again.new_keys == [] and again.learned == [] and again.writes[0].key == decoded.writes[0].key
    # The same key written another way: other bytes, the same series.
    entries = [field(0x12, field(0x0A, name.encode()) + field(0x12, value.encode()))
               for name, value in (("y", "2"), ("x", "0"), ("x", "1"))]  # the last x counts
    series = field(0x0A, field(0x0A, b"a") + b"".join(entries)) + field(0x12, varint(NOW_MS)) \
        + field(0x1A, struct.pack("<d", 3.0))
    other = field(0x12, b"\x08\x09" + field(0x12, series))
    held = {decoded.writes[0].key}
    _, reordered = read_batch(other, "n1", LIMITS, known, NOW_MS, held=held.__contains__)
    assert reordered.writes[0].key == decoded.writes[0].key and reordered.new_keys == []
    assert len(reordered.learned) == 1 and reordered.learned[0][0] != first_form


def test_a_series_sent_only_as_gaps_is_not_learned():
    data = request(samples("a", [NOW_MS], [float("nan")]))
    _, decoded = read_batch(data, "n1", LIMITS, KnownKeys(10), NOW_MS)
    assert decoded.learned == [] and decoded.gaps == 1


def test_known_keys_are_bounded():
    known = KnownKeys(capacity=3)
    for i in range(10):
        _, decoded = read_batch(request(samples("a", [NOW_MS], [1.0], i=str(i))), "n1", LIMITS, known, NOW_MS)
        known.learn(decoded)
        assert len(known) <= 3


def test_every_learned_form_is_found_after_the_table_grows():
    """Forms learned over many batches (the table rehashed several times) are all found
    again, each with its own key, none parsed or looked up in the store a second time."""
    known = KnownKeys(1000)
    sent = [samples("m", [NOW_MS - 1000], [1.0], i=str(i)) for i in range(60)]
    for start in range(0, 60, 7):  # several learns, so the table grows between them
        _, decoded = read_batch(request(*sent[start:start + 7]), "n1", LIMITS, known, NOW_MS)
        known.learn(decoded)
    assert len(known) == 60

    def never(key):
        raise AssertionError(f"{key} was looked up in the store although the stream knows it")

    _, again = read_batch(request(*[samples("m", [NOW_MS], [2.0], i=str(i)) for i in range(60)], sequence=8),
                          "n1", LIMITS, known, NOW_MS, held=never)
    assert again.new_keys == [] and again.learned == []
    assert [dict(write.key.labels)["i"] for write in again.writes] == [str(i) for i in range(60)]


def test_shapes_the_kernel_does_not_read_go_to_protobuf():
    key = series_pb2.SeriesKey(metric="a").SerializeToString()
    unpacked = field(0x0A, key) + b"".join(b"\x10" + varint(t) for t in (NOW_MS - 1, NOW_MS)) \
        + b"".join(b"\x19" + struct.pack("<d", v) for v in (1.0, 2.0))
    unknown_field = field(0x0A, key) + field(0x12, varint(NOW_MS)) + field(0x1A, struct.pack("<d", 1.0)) \
        + field(0x22, b"later")
    for series in (unpacked, unknown_field):
        data = field(0x12, b"\x08\x07" + field(0x12, series))
        assert read_push_batch(np.frombuffer(data, np.uint8))[0] == NOT_READ
        answer = ours(data)
        assert not isinstance(answer, str) and answer == reference(data)
    hello = ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="n1")).SerializeToString()
    assert ours(hello) == reference(hello) == "hello may be sent only once, as the first message"
    zero = request(samples("a", [NOW_MS], [1.0]), sequence=0)
    assert "batch.sequence must be 1 or more" in ours(zero) == reference(zero)


def test_the_hand_written_varint_is_protobufs_for_negative_numbers_too():
    for value in (0, 1, 300, NOW_MS, 2**63 - 1, -1, -NOW_MS, -(2**63)):
        packed = series_pb2.SeriesSamples(timestamps_ms=[value]).SerializeToString()
        assert packed == field(0x12, varint(value))


def test_negative_timestamps_get_the_same_answer_packed_or_not():
    key = series_pb2.SeriesKey(metric="a").SerializeToString()
    times, values = (-NOW_MS, -1, NOW_MS), (1.0, 2.0, 3.0)
    packed = request(samples("a", list(times), list(values)))
    series = field(0x0A, key) + b"".join(b"\x10" + varint(t) for t in times) \
        + b"".join(b"\x19" + struct.pack("<d", v) for v in values)
    unpacked = field(0x12, b"\x08\x07" + field(0x12, series))
    answers = {ours(packed), ours(unpacked), reference(packed), reference(unpacked)}
    assert answers == {"batch 7, series 0 (a): timestamps must be positive milliseconds since the epoch"}


def test_malformed_bytes_get_protobufs_verdict():
    data = request(samples("a", [NOW_MS], [1.0], i="0"), samples("b", [NOW_MS - 5, NOW_MS], [1.0, 2.0]))
    for cut in range(1, len(data)):
        assert ours(data[:cut]) == reference(data[:cut]), cut
    bad_utf8 = request(samples("a\xff", [NOW_MS], [1.0])).replace("a\xff".encode(), b"a\xff\xfe")
    assert "could not be decoded" in ours(bad_utf8) == reference(bad_utf8)
    too_long = field(0x12, b"\x08\x07" + field(0x12, field(0x12, b"\xff" * 11 + b"\x01")))
    assert ours(too_long) == reference(too_long)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6))
def test_mutated_requests_answer_as_protobuf_does(seed, flips):
    rng = random.Random(seed)
    series = [samples(rng.choice(["a", "b", "9", ""]), [NOW_MS - rng.randrange(0, 10_000) for _ in range(n)],
                      [rng.choice([1.0, float("nan"), -0.0, 1e300]) for _ in range(n)],
                      **{rng.choice(["i", "node", "j"]): rng.choice(["n1", "x", ""])})
              for n in (rng.randrange(0, 4) for _ in range(rng.randrange(0, 5)))]
    data = bytearray(request(*series, sequence=rng.randrange(0, 5)))
    for position, byte in flips:
        if data:
            data[position % len(data)] = byte
    known = KnownKeys(100)
    assert ours(bytes(data), known) == reference(bytes(data))
