"""Whatever a client sends, the server answers with a deliberate status and keeps serving.

Hypothesis builds protobuf requests (odd selectors, horizons, levels, labels, values)
and raw bytes sent straight onto the wire; the server must never answer INTERNAL or
UNKNOWN (an unhandled error) and must still forecast afterwards.
"""

import time

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infracast.v1 import forecast_pb2, forecast_pb2_grpc, ingest_pb2, ingest_pb2_grpc, series_pb2
from tests.integration.feed import feed_series

pytestmark = pytest.mark.slow
# FAILED_PRECONDITION: a question the history cannot answer yet (too few samples, a horizon
# beyond five times the history), said as such.
DELIBERATE = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
              grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.FAILED_PRECONDITION}
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

text = st.text(max_size=40)
selectors = st.one_of(text, st.sampled_from(['node_load1{node="fz"}', "node_load1", "{", '{a=~"("}', ""]))
numbers = st.floats(allow_nan=True, allow_infinity=True)


@pytest.fixture
def channel(server):
    now = int(time.time() * 1000)
    feed_series(server.address, "fz", "node_load1", {}, [now - 60_000 * i for i in range(60)][::-1],
                [1.0 + i / 60 for i in range(60)])
    with grpc.insecure_channel(server.address) as opened:
        yield opened


def code_of(call, request) -> grpc.StatusCode:
    try:
        call(request, timeout=30)
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


@FUZZ
@given(selector=selectors, seconds=st.integers(-10**12, 10**12), levels=st.lists(numbers, max_size=4),
       threshold=numbers, level=numbers, direction=st.integers(0, 5))
def test_prediction_requests(channel, selector, seconds, levels, threshold, level, direction):
    stub = forecast_pb2_grpc.ForecastServiceStub(channel)
    horizon = Duration(seconds=seconds)
    assert code_of(stub.Forecast, forecast_pb2.ForecastRequest(
        selector=selector, horizon=horizon, levels=levels)) in DELIBERATE
    assert code_of(stub.TimeToThreshold, forecast_pb2.TimeToThresholdRequest(
        selector=selector, threshold=threshold, direction=direction, horizon=horizon,
        level=level)) in DELIBERATE
    assert code_of(stub.DetectAnomalies, forecast_pb2.DetectAnomaliesRequest(
        selector=selector, window=horizon, threshold=threshold)) in DELIBERATE
    assert code_of(stub.ListSeries, forecast_pb2.ListSeriesRequest(
        selector=selector, limit=abs(seconds) % 2**32)) in DELIBERATE


samples = st.builds(
    series_pb2.SeriesSamples,
    key=st.builds(series_pb2.SeriesKey, metric=st.one_of(text, st.just("fuzz_value")),
                  labels=st.dictionaries(text, text, max_size=3)),
    timestamps_ms=st.lists(st.integers(-2**63, 2**63 - 1), max_size=5),
    values=st.lists(numbers, max_size=5),
)

descriptors = st.lists(st.builds(
    series_pb2.MetricDescriptor, metric=st.one_of(text, st.just("fuzz_value")), type=st.integers(-3, 5),
    unit=st.one_of(text, st.just("bytes")), help=text), max_size=3)


@FUZZ
@given(node=text, batches=st.lists(st.tuples(st.lists(samples, max_size=3), descriptors), max_size=3),
       hello_first=st.booleans(), described=descriptors)
def test_push_streams(channel, node, batches, hello_first, described):
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    hello = ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node=node, agent_id="fuzz", metrics=described))
    requests = [hello] if hello_first else []
    requests += [ingest_pb2.PushRequest(batch=ingest_pb2.Batch(sequence=i + 1, series=series,
                                                               metrics=metrics))
                 for i, (series, metrics) in enumerate(batches)]
    try:
        for _ in stub.Push(iter(requests), timeout=30):
            pass
        code = grpc.StatusCode.OK
    except grpc.RpcError as error:
        code = error.code()
    assert code in DELIBERATE


@FUZZ
@given(payload=st.binary(max_size=512),
       method=st.sampled_from(["/infracast.v1.ForecastService/Forecast",
                               "/infracast.v1.ForecastService/ListSeries",
                               "/infracast.v1.ForecastService/TimeToThreshold"]))
def test_random_bytes_on_the_wire(channel, payload, method):
    call = channel.unary_unary(method)  # bytes in, bytes out: no client-side serialisation
    assert code_of(call, payload) in DELIBERATE


def test_the_server_still_serves_after_the_fuzzing(channel):
    stub = forecast_pb2_grpc.ForecastServiceStub(channel)
    bad = channel.unary_unary("/infracast.v1.ForecastService/Forecast")
    for payload in (b"\x00", b"\xff" * 7, b"\x0a\xff\xff\xff\xff\x0f"):
        with pytest.raises(grpc.RpcError) as raised:
            bad(payload, timeout=30)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "could not be decoded" in raised.value.details()
    answer = stub.Forecast(forecast_pb2.ForecastRequest(selector='node_load1{node="fz"}'), timeout=30)
    assert len(answer.mean) > 0
