"""Bad input gets the right status and a message a person can act on; the server keeps serving."""

import time

import grpc
import numpy as np
import pytest
from google.protobuf.duration_pb2 import Duration

from infracast.v1 import forecast_pb2, forecast_pb2_grpc, ingest_pb2, ingest_pb2_grpc, series_pb2
from tests.integration.feed import feed_series

NOW_MS = int(time.time() * 1000)
RISING = forecast_pb2.DIRECTION_RISING


@pytest.fixture
def stubs(server):
    times = NOW_MS - 60_000 * np.arange(60)[::-1]
    for node in ("a", "b"):
        feed_series(server.address, node, "node_load1", {}, times, np.linspace(1, 2, 60))
    with grpc.insecure_channel(server.address) as channel:
        yield forecast_pb2_grpc.ForecastServiceStub(channel), ingest_pb2_grpc.IngestServiceStub(channel)


def seconds(value):
    return Duration(seconds=value)


def status_of(call, request):
    with pytest.raises(grpc.RpcError) as raised:
        call(request, timeout=30)
    return raised.value.code(), raised.value.details()


def assert_still_serving(forecasts):
    answer = forecasts.Forecast(
        forecast_pb2.ForecastRequest(selector='node_load1{node="a"}', horizon=seconds(600)), timeout=30)
    assert len(answer.mean) == 10




@pytest.mark.parametrize(("request_", "code", "says"), [
    (forecast_pb2.ForecastRequest(selector='node_load1{node="nope"}'),
     grpc.StatusCode.NOT_FOUND, "no series matches"),
    (forecast_pb2.ForecastRequest(selector="", horizon=seconds(60)),
     grpc.StatusCode.INVALID_ARGUMENT, "selector is empty"),
    (forecast_pb2.ForecastRequest(selector='node_load1{node="a"}', horizon=seconds(0)),
     grpc.StatusCode.INVALID_ARGUMENT, "horizon must be positive"),
    (forecast_pb2.ForecastRequest(selector='node_load1{node="a"}', horizon=seconds(-5)),
     grpc.StatusCode.INVALID_ARGUMENT, "horizon must be positive"),
    (forecast_pb2.ForecastRequest(selector='node_load1{node="a"}', horizon=seconds(400 * 86400)),
     grpc.StatusCode.INVALID_ARGUMENT, "at most 30 days"),
    (forecast_pb2.ForecastRequest(selector="node_load1", horizon=seconds(60)),
     grpc.StatusCode.INVALID_ARGUMENT, "matches 2 series"),
    # 59 minutes of history reach 4h 55m: 6 hours ahead is refused, naming what it needs.
    (forecast_pb2.ForecastRequest(selector='node_load1{node="a"}', horizon=seconds(6 * 3600)),
     grpc.StatusCode.FAILED_PRECONDITION, "6h ahead needs at least 1h 12m"),
    (forecast_pb2.ForecastRequest(selector='node_load1{node="a"', horizon=seconds(60)),
     grpc.StatusCode.INVALID_ARGUMENT, "cannot parse selector"),
    (forecast_pb2.ForecastRequest(selector='node_load1{node="a"}', levels=[100]),
     grpc.StatusCode.INVALID_ARGUMENT, "levels are percentages"),
    (forecast_pb2.ForecastRequest(selector='node_load1{node="a"}', levels=[float("nan")]),
     grpc.StatusCode.INVALID_ARGUMENT, "levels are percentages"),
    (forecast_pb2.ForecastRequest(selector='node_load1{node="a"}', levels=[i / 10 for i in range(1, 1000)]),
     grpc.StatusCode.INVALID_ARGUMENT, "999 interval levels; at most 10 are allowed"),
])
def test_forecast_refuses_bad_requests(stubs, request_, code, says):
    forecasts, _ = stubs
    assert status_of(forecasts.Forecast, request_)[0] == code
    assert says in status_of(forecasts.Forecast, request_)[1]
    assert_still_serving(forecasts)


@pytest.mark.parametrize(("request_", "code", "says"), [
    (forecast_pb2.TimeToThresholdRequest(selector='node_load1{node="a"}', threshold=float("inf"),
                                         direction=RISING),
     grpc.StatusCode.INVALID_ARGUMENT, "finite"),
    (forecast_pb2.TimeToThresholdRequest(selector='node_load1{node="a"}', threshold=1, level=-3,
                                         direction=RISING),
     grpc.StatusCode.INVALID_ARGUMENT, "levels are percentages"),
    (forecast_pb2.TimeToThresholdRequest(selector="missing_metric", threshold=1, direction=RISING),
     grpc.StatusCode.NOT_FOUND, "no series matches"),
    (forecast_pb2.TimeToThresholdRequest(selector='node_load1{node="a"}', threshold=1),
     grpc.StatusCode.INVALID_ARGUMENT, "direction must be DIRECTION_RISING or DIRECTION_FALLING"),
    (forecast_pb2.TimeToThresholdRequest(selector='node_load1{node="a"}', threshold=1, direction=7),
     grpc.StatusCode.INVALID_ARGUMENT, "direction must be"),
    (forecast_pb2.TimeToThresholdRequest(selector='node_load1{node="a"}', capacity_percent=10,
                                         direction=forecast_pb2.DIRECTION_FALLING),
     grpc.StatusCode.FAILED_PRECONDITION, "no capacity is known"),
])
def test_time_to_threshold_refuses_bad_requests(stubs, request_, code, says):
    forecasts, _ = stubs
    actual_code, details = status_of(forecasts.TimeToThreshold, request_)
    assert actual_code == code and says in details
    assert_still_serving(forecasts)


def test_list_series_refuses_a_bad_selector_and_limit(stubs):
    forecasts, _ = stubs
    code, details = status_of(forecasts.ListSeries, forecast_pb2.ListSeriesRequest(selector="{node=a}"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and 'label="value"' in details
    code, details = status_of(forecasts.ListSeries, forecast_pb2.ListSeriesRequest(limit=10**6))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "limit" in details
    listed = forecasts.ListSeries(forecast_pb2.ListSeriesRequest(limit=1), timeout=30)
    assert len(listed.series) == 1 and listed.truncated


def push(ingest, *requests):
    return list(ingest.Push(iter(requests), timeout=30))


def batch(sequence, metric="node_load1", timestamps=(NOW_MS,), values=(1.0,), labels=None):
    return ingest_pb2.PushRequest(batch=ingest_pb2.Batch(sequence=sequence, series=[
        series_pb2.SeriesSamples(key=series_pb2.SeriesKey(metric=metric, labels=labels or {}),
                                 timestamps_ms=list(timestamps), values=list(values))]))


HELLO = ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="c", agent_id="test-agent"))


@pytest.mark.parametrize(("requests", "says"), [
    ([batch(1)], "first message of a Push stream must be a hello"),
    ([ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node=""))], "hello.node is empty"),
    ([HELLO, HELLO], "hello may be sent only once"),
    # An empty request (an unset oneof) is neither a second hello nor a batch.
    ([ingest_pb2.PushRequest()], "the first message of a Push stream must be a hello; this one is empty"),
    ([HELLO, ingest_pb2.PushRequest()], "after the hello, each message must hold a batch; this one is empty"),
    ([ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="c", labels={f"k{i}": "v" for i in range(65)}))],
     "65 node labels; at most 64"),
    ([ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="c", labels={"pool": "x" * 64}))],
     "hello label 'pool' is too long"),
    ([ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="c", allocatable_memory_bytes=-1.0))],
     "hello.allocatable_memory_bytes must be a finite number >= 0"),
    ([ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="c", allocatable_cpu_cores=float("nan")))],
     "hello.allocatable_cpu_cores must be a finite number >= 0"),
    ([HELLO, batch(1, metric="bad-name")], "metric name must match"),
    ([HELLO, batch(1, labels={"__x": "y"})], "label name '__x' is not allowed"),
    ([HELLO, batch(1, labels={"node": "other"})], "only its own node"),
    ([HELLO, batch(1, timestamps=(NOW_MS, NOW_MS + 1), values=(1.0,))], "2 timestamps but 1 values"),
    ([HELLO, batch(1, values=(float("inf"),))], "values must be finite"),
    ([HELLO, batch(1, timestamps=(-5,))], "timestamps must be positive"),
    ([HELLO, batch(0)], "batch.sequence must be 1 or more"),
    ([ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="c", agent_id="x" * 300))],
     "hello.agent_id must be at most 253 printable characters"),
])
def test_push_refuses_bad_streams_and_stores_nothing_of_them(stubs, requests, says):
    forecasts, ingest = stubs
    with pytest.raises(grpc.RpcError) as raised:
        push(ingest, *requests)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert says in raised.value.details()
    listed = forecasts.ListSeries(forecast_pb2.ListSeriesRequest(selector='{node="c"}'), timeout=30)
    assert len(listed.series) == 0
    assert_still_serving(forecasts)


def test_push_acks_each_batch_skips_nan_gaps_and_is_idempotent(stubs):
    forecasts, ingest = stubs
    acks = push(ingest, HELLO,
                batch(1, timestamps=(NOW_MS, NOW_MS + 1000), values=(1.0, float("nan"))),
                batch(2, timestamps=(NOW_MS, NOW_MS + 2000), values=(1.0, 3.0)))
    assert [(a.ack.highest_sequence, a.ack.samples_stored, a.ack.samples_skipped) for a in acks] == [
        (1, 1, 1), (2, 1, 1)]
    again = push(ingest, HELLO, batch(1, timestamps=(NOW_MS,), values=(1.0,)))
    # Acks are per stream: a restarted agent numbering from 1 again is acked for what it sent.
    assert again[0].ack.highest_sequence == 1
    listed = forecasts.ListSeries(forecast_pb2.ListSeriesRequest(selector='{node="c"}'), timeout=30)
    assert listed.series[0].sample_count == 2


@pytest.mark.parametrize(("requests", "says"), [
    ([HELLO, batch(1, labels={f"l{i}": "v" for i in range(33)})], "33 labels; at most 32 are allowed"),
    ([HELLO, batch(1, labels={"path": "x" * 2000})], "2000 characters long; at most 1024"),
    ([HELLO, batch(1, metric="m" * 3_000_000)],
     "the metric name is 3000000 characters long; at most 256 are allowed (max_metric_name_length)"),
    ([HELLO, batch(1, labels={"l" * 300: "v"})],
     "is 300 characters long; at most 256 are allowed (max_label_name_length)"),
    ([HELLO, batch(1, timestamps=(NOW_MS + 3_600_000,))], "in the future; at most 600s is allowed"),
    ([HELLO, batch(1, timestamps=(NOW_MS - 30 * 86_400_000,))], "older than the retention of 14 days"),
])
def test_push_enforces_label_and_time_limits_naming_them(stubs, requests, says):
    forecasts, ingest = stubs
    with pytest.raises(grpc.RpcError) as raised:
        push(ingest, *requests)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert says in raised.value.details()
    assert len(raised.value.details()) < 1000  # the 3 MB name is not echoed
    assert_still_serving(forecasts)


def test_series_cardinality_is_capped_per_agent():
    from infracast.clients.testing import running_server
    from infracast.server.config import ServerConfig

    config = ServerConfig(listen="127.0.0.1:0", grace_period_s=0.5, max_series_per_agent=3)
    with running_server(config) as server, grpc.insecure_channel(server.address) as channel:
        ingest = ingest_pb2_grpc.IngestServiceStub(channel)
        three = [batch(i + 1, metric=f"m{i}") for i in range(3)]
        assert len(push(ingest, HELLO, *three)) == 3
        with pytest.raises(grpc.RpcError) as raised:
            push(ingest, HELLO, batch(4, metric="m3"))
        assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "would have 4 series; at most 3 per agent" in raised.value.details()
        assert len(push(ingest, HELLO, batch(5, metric="m0"))) == 1  # known series still flow


def test_a_megabyte_selector_is_answered_not_found_with_its_echo_cut(stubs):
    forecasts, _ = stubs
    selector = 'node_load1{node="' + "x" * 1_000_000 + '"}'
    code, details = status_of(forecasts.Forecast, forecast_pb2.ForecastRequest(selector=selector))
    assert code == grpc.StatusCode.NOT_FOUND and "no series matches" in details
    assert "(1000019 characters)" in details and len(details) < 1000
    assert_still_serving(forecasts)
