"""TLS and mutual TLS for ingest and queries, and the plaintext health port beside them."""

import subprocess

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from infracast.clients.client import InfracastClient
from infracast.clients.errors import ServerUnavailable
from infracast.common.channels import TlsOptions, open_channel
from tests.conftest import ServerProcess, executable, free_port, wait_until
from tests.integration.certificates import make_pki

pytestmark = pytest.mark.slow



def test_tls_for_queries_and_ingest_with_a_plaintext_health_port(tmp_path):
    pki = make_pki(tmp_path)
    health_port = free_port()
    server = ServerProcess("--tls-cert", str(pki["server"]), "--tls-key", str(pki["server_key"]),
                           "--health-listen", f"127.0.0.1:{health_port}")
    agent = None
    try:
        server.wait_ready()
        agent = subprocess.Popen([executable("infracast-agent"), "--server", server.address,
                                  "--node", "tls-node", "--interval", "200ms", "--collectors", "load",
                                  "--tls-ca", str(pki["ca"])], stderr=subprocess.DEVNULL)
        with InfracastClient(server.address, tls=TlsOptions(ca=pki["ca"])) as client:
            series = wait_until(lambda: client.list_series('node_load1{node="tls-node"}')[0],
                                timeout_s=60, message="samples over TLS")
            assert series[0].sample_count >= 1
        with InfracastClient(server.address, timeout_s=3) as plaintext, pytest.raises(ServerUnavailable):
            plaintext.list_series()
        with open_channel(f"127.0.0.1:{health_port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for service in ("", "infracast.v1.ForecastService"):
                answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
                assert answer.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(Exception, match=r"Method not found|UNIMPLEMENTED"):
                channel.unary_unary("/infracast.v1.ForecastService/ListSeries")(b"", timeout=10)
    finally:
        if agent is not None:
            agent.terminate()
            agent.wait(30)
        server.stop()


def test_mutual_tls_refuses_clients_without_a_certificate(tmp_path):
    pki = make_pki(tmp_path)
    server = ServerProcess("--tls-cert", str(pki["server"]), "--tls-key", str(pki["server_key"]),
                           "--tls-client-ca", str(pki["ca"]), "--tls-client-auth", "required")
    try:
        server.wait_ready()
        with InfracastClient(server.address, timeout_s=3, tls=TlsOptions(ca=pki["ca"])) as anonymous, \
                pytest.raises(ServerUnavailable):
            anonymous.health()
        certified = TlsOptions(ca=pki["ca"], cert=pki["client"], key=pki["client_key"])
        with InfracastClient(server.address, tls=certified) as client:
            assert client.health() == "SERVING"
    finally:
        server.stop()


def test_tls_settings_are_checked_at_start(tmp_path):
    pki = make_pki(tmp_path)
    for args, says in (
        (["--tls-cert", str(pki["server"])], "must be set together"),
        (["--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", str(pki["server_key"])],
         "is not a readable file"),
        (["--tls-client-auth", "required"], "needs INFRACAST_TLS_CLIENT_CA"),
    ):
        result = subprocess.run([executable("infracast-server"), "--listen", "127.0.0.1:0", *args],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and says in result.stderr, result.stderr
