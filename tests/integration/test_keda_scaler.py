"""KEDA's external scaler contract, called as KEDA calls it: with the client generated from
proto/infracast/keda/externalscaler.proto, against the real server over gRPC."""

from __future__ import annotations

import time

import grpc
import numpy as np
import pytest

from infracast.clients.client import InfracastClient
from infracast.clients.testing import running_server
from infracast.keda import externalscaler_pb2 as pb
from infracast.keda import externalscaler_pb2_grpc
from infracast.server.config import ServerConfig
from tests.integration.feed import feed_series

NOW_MS = int(time.time() * 1000)
TIMES = np.arange(NOW_MS - 3600_000, NOW_MS, 15_000)


@pytest.fixture
def scaler(server):
    # Requests in flight: one service ramping up (~20 more per hour), one steady at 5.
    feed_series(server.address, "n1", "http_requests_in_flight", {"service": "ramping"}, TIMES,
                np.linspace(40, 60, len(TIMES)) + np.sin(np.arange(len(TIMES))) * 0.5)
    feed_series(server.address, "n1", "http_requests_in_flight", {"service": "steady"}, TIMES,
                5 + np.sin(np.arange(len(TIMES))) * 0.5)
    with grpc.insecure_channel(server.address) as channel:
        yield externalscaler_pb2_grpc.ExternalScalerStub(channel), server


def ref(**metadata: str) -> pb.ScaledObjectRef:
    return pb.ScaledObjectRef(name="web", namespace="shop", scalerMetadata=metadata)


def test_metric_values_follow_the_forecast(scaler):
    stub, server = scaler
    ramping = 'http_requests_in_flight{service="ramping"}'
    (spec,) = stub.GetMetricSpec(ref(selector=ramping, target="10", horizon="30m"), timeout=30).metricSpecs
    assert (spec.metricName, spec.targetSizeFloat, spec.targetSize) == ("infracast-peak", 10.0, 10)

    def value(**metadata: str) -> float:
        request = pb.GetMetricsRequest(scaledObjectRef=ref(selector=ramping, target="10", **metadata),
                                       metricName="infracast-peak")
        (answer,) = stub.GetMetrics(request, timeout=30).metricValues
        assert answer.metricName == "infracast-peak"
        assert answer.metricValue == np.ceil(answer.metricValueFloat)
        return answer.metricValueFloat

    with InfracastClient(server.address, timeout_s=30) as client:
        forecast = client.forecast(ramping, "30m", levels=[80.0])
    peak = value(horizon="30m")
    assert peak == pytest.approx(forecast.mean.max(), rel=1e-9)  # the same answer as Forecast's
    assert peak > 60  # ahead of the current ~60: the ramp continues
    assert value(horizon="30m", statistic="end") == pytest.approx(forecast.mean[-1], rel=1e-9)
    assert value(horizon="30m", quantile="0.9") == pytest.approx(forecast.upper[80.0].max(), rel=1e-9)
    assert value(horizon="30m", quantile="0.9") > peak
    assert value(horizon="5m") < peak  # a nearer horizon sees less of the ramp


def test_activity_follows_the_forecast_and_streams(scaler):
    stub, _ = scaler
    steady = 'http_requests_in_flight{service="steady"}'
    assert stub.IsActive(ref(selector=steady, target="10", activationValue="20"), timeout=30).result is False
    assert stub.IsActive(ref(selector=steady, target="10", activationValue="2"), timeout=30).result is True
    stream = stub.StreamIsActive(ref(selector=steady, target="10", activationValue="2",
                                     streamInterval="1s"), timeout=30)
    assert next(stream).result is True  # sent at once, then only on changes
    stream.cancel()


def test_bad_metadata_is_invalid_argument_naming_the_field(scaler):
    stub, _ = scaler
    for metadata, says in (({"target": "10"}, "selector"), ({"selector": "x"}, "target"),
                           ({"selector": "http_requests_in_flight", "target": "1", "quantile": "0.7"},
                            "quantile"),
                           ({"selector": "http_requests_in_flight", "target": "1"}, "matches 2 series")):
        with pytest.raises(grpc.RpcError) as raised:
            stub.GetMetrics(pb.GetMetricsRequest(scaledObjectRef=ref(**metadata)), timeout=30)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT and says in raised.value.details()
    stream = stub.StreamIsActive(ref(target="1"), timeout=30)
    with pytest.raises(grpc.RpcError) as raised:
        next(stream)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_the_scaler_needs_a_query_token_when_tokens_are_configured(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("query-token-0123456789 query\n")
    config = ServerConfig(listen="127.0.0.1:0", grace_period_s=0.5, tokens_file=tokens)
    with running_server(config) as server, grpc.insecure_channel(server.address) as channel:
        stub = externalscaler_pb2_grpc.ExternalScalerStub(channel)
        for call in (lambda: stub.IsActive(ref(selector="x", target="1"), timeout=30),
                     lambda: next(stub.StreamIsActive(ref(selector="x", target="1"), timeout=30))):
            with pytest.raises(grpc.RpcError) as raised:
                call()
            assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
