"""Per-client token buckets: RESOURCE_EXHAUSTED with a retry hint, health never limited."""

import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from infracast.clients.client import InfracastClient
from infracast.clients.errors import RateLimited, TimedOut, translate
from infracast.clients.testing import running_server
from infracast.server.config import ServerConfig
from infracast.server.security.rate_limit import TokenBuckets
from infracast.v1 import forecast_pb2, forecast_pb2_grpc


def test_token_bucket_refills_at_its_rate():
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=3.0, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    assert buckets.take("b") == 0.0  # another caller has its own bucket
    now[0] += 0.5
    assert buckets.take("a") == 0.0


def test_a_client_over_its_rate_is_told_when_to_retry():
    from infracast.agent.shipper import retry_hint_s

    config = ServerConfig(listen="127.0.0.1:0", grace_period_s=0.5, rate_limit=1.0, rate_limit_burst=2.0)
    with running_server(config) as server, grpc.insecure_channel(server.address) as channel:
        stub = forecast_pb2_grpc.ForecastServiceStub(channel)
        for _ in range(2):
            stub.ListSeries(forecast_pb2.ListSeriesRequest(), timeout=10)
        with pytest.raises(grpc.RpcError) as raised:
            stub.ListSeries(forecast_pb2.ListSeriesRequest(), timeout=10)
        assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "rate limit of 1 calls/s (burst 2)" in raised.value.details()
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(5):
            assert health.Check(health_pb2.HealthCheckRequest(), timeout=10).status == 1
    # The hint travels as google.rpc.RetryInfo, which the agent's retry logic reads.
    from grpc import aio

    assert retry_hint_s(aio.AioRpcError(raised.value.code(), None, aio.Metadata(
        *raised.value.trailing_metadata()), raised.value.details())) == pytest.approx(1.0, abs=0.1)


def test_the_client_keeps_the_status_and_waits_as_the_server_asks():
    """Over its rate, the Python client waits out the server's RetryInfo hint instead of failing;
    with no time left for that, it raises RateLimited carrying the code and the parsed hint."""
    config = ServerConfig(listen="127.0.0.1:0", grace_period_s=0.5, rate_limit=2.0, rate_limit_burst=1.0)
    with running_server(config) as server:
        with InfracastClient(server.address, timeout_s=10) as patient:
            started = time.monotonic()
            for _ in range(3):
                patient.list_series()
            assert time.monotonic() - started >= 0.8  # two waits of about 0.5 s each
        with InfracastClient(server.address, timeout_s=0.2) as hurried, \
                pytest.raises(RateLimited) as refused:
            for _ in range(3):
                hurried.list_series()
    assert refused.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.value.retry_after_s == pytest.approx(0.5, abs=0.1)
    assert "rate limit of 2 calls/s" in str(refused.value)


def test_a_deadline_is_reported_as_a_timeout_not_as_an_unreachable_server():
    error = translate(_FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"), "h:1", 2.0)
    assert isinstance(error, TimedOut) and error.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "did not answer within 2s (timed out)" in str(error) and "cannot reach" not in str(error)


class _FakeRpcError(grpc.RpcError):
    """A status as grpc raises it, for the translation alone (no server needed to time out)."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple:
        return ()
