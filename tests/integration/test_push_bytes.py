"""Push requests are read from their bytes (the numba wire kernel) on a real server: the
generated encoders' shape takes the kernel, other valid encodings take protobuf, and both
store the same samples; a series a stream already wrote is stored again under its key."""

import struct
import time

import grpc

from infracast.v1 import forecast_pb2, forecast_pb2_grpc, ingest_pb2, series_pb2
from tests.protobuf_wire import field, varint

NOW_MS = int(time.time() * 1000)
PUSH = "/infracast.v1.IngestService/Push"


def push_bytes(address: str, *requests: bytes) -> list[ingest_pb2.PushResponse]:
    with grpc.insecure_channel(address) as channel:
        call = channel.stream_stream(PUSH, request_serializer=lambda raw: raw,
                                     response_deserializer=ingest_pb2.PushResponse.FromString)
        return list(call(iter(requests), timeout=30))


def hello(node: str) -> bytes:
    return ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node=node, agent_id=node)).SerializeToString()


def generated(sequence: int, metric: str, times: list[int], values: list[float]) -> bytes:
    return ingest_pb2.PushRequest(batch=ingest_pb2.Batch(sequence=sequence, series=[series_pb2.SeriesSamples(
        key=series_pb2.SeriesKey(metric=metric, labels={"disk": "sda"}), timestamps_ms=times,
        values=values)])).SerializeToString()


def unpacked(sequence: int, metric: str, times: list[int], values: list[float]) -> bytes:
    """The same batch with its numbers unpacked (valid protobuf the kernel leaves to protobuf)."""
    key = series_pb2.SeriesKey(metric=metric, labels={"disk": "sda"}).SerializeToString()
    series = field(0x0A, key) + b"".join(b"\x10" + varint(t) for t in times) \
        + b"".join(b"\x19" + struct.pack("<d", v) for v in values)
    return field(0x12, b"\x08" + varint(sequence) + field(0x12, series))


def windows(address: str, metric: str) -> list[tuple[int, float]]:
    with grpc.insecure_channel(address) as channel:
        stub = forecast_pb2_grpc.ForecastServiceStub(channel)
        listed = stub.ListSeries(forecast_pb2.ListSeriesRequest(selector=metric), timeout=30)
        return [(s.sample_count, s.last_value) for s in listed.series]


def test_kernel_and_protobuf_paths_store_the_same_samples(server):
    times = [NOW_MS - 3000, NOW_MS - 2000, NOW_MS - 1000]
    for metric, encode in (("via_kernel", generated), ("via_protobuf", unpacked)):
        responses = push_bytes(server.address, hello(f"node-{metric}"),
                               encode(1, metric, times[:2], [1.0, float("nan")]),
                               encode(2, metric, times[2:], [4.5]),
                               encode(3, metric, times, [1.0, 2.0, 4.5]))
        assert [(r.ack.highest_sequence, r.ack.samples_stored, r.ack.samples_skipped) for r in responses] \
            == [(1, 1, 1), (2, 1, 0), (3, 1, 2)], metric
        assert windows(server.address, metric) == [(3, 4.5)], metric


def test_a_malformed_batch_is_refused_and_the_server_keeps_serving(server):
    good = generated(1, "after_malformed", [NOW_MS], [1.0])
    for cut in (len(good) - 1, len(good) // 2, 3):
        try:
            push_bytes(server.address, hello("malformed"), good[:cut])
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "could not be decoded" in error.details()
        else:
            raise AssertionError(f"a batch cut at {cut} bytes was accepted")
    assert push_bytes(server.address, hello("malformed"), good)[0].ack.samples_stored == 1
