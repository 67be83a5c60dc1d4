"""A selector whose regex backtracks exponentially in Python's `re` must not stall the server.

On a real server process: a stalled event loop would stall the test process too if the
server ran in it.
"""

import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from infracast.v1 import forecast_pb2, forecast_pb2_grpc
from tests.integration.feed import feed_series

pytestmark = pytest.mark.slow
CATASTROPHIC = '{x=~"(a+)+$"}'  # 2^40 steps for Python's re on the value below


def test_a_backtracking_regex_leaves_health_ingest_and_queries_answering(server_process):
    address = server_process.address
    now_ms = int(time.time() * 1000)
    feed_series(address, "n1", "node_load1", {"x": "a" * 40 + "!"}, [now_ms], [1.0])
    with grpc.insecure_channel(address) as channel:
        forecasts = forecast_pb2_grpc.ForecastServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        listing = forecasts.ListSeries.future(
            forecast_pb2.ListSeriesRequest(selector=CATASTROPHIC), timeout=20)
        forecast = forecasts.Forecast.future(
            forecast_pb2.ForecastRequest(selector=CATASTROPHIC), timeout=20)
        started = time.monotonic()
        answer = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        ack = feed_series(address, "n2", "node_load1", {"x": "b"}, [now_ms], [2.0])
        assert ack.samples_stored == 1
        assert list(listing.result().series) == []  # anchored: the "!" does not match
        with pytest.raises(grpc.RpcError) as raised:
            forecast.result()
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND
        assert time.monotonic() - started < 10
        # RE2 semantics are still Prometheus': anchored, and a match where there is one.
        found = forecasts.ListSeries(forecast_pb2.ListSeriesRequest(selector='{x=~"(a+)+!"}'),
                                     timeout=10)
        assert [dict(s.key.labels)["node"] for s in found.series] == ["n1"]
