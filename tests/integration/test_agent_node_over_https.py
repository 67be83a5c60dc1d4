"""In a pod the agent reads its Node with one plain HTTPS GET (no kubernetes client): the
fake API server (tests/fake_kubernetes_api.py, real HTTPS on loopback; there is no real API
server to be had here) checks the token, the agent checks the API's certificate."""

import logging
import shutil
import sys

import pytest

from infracast.agent.kubernetes_node import connect_to_node_api, read_node_metadata
from infracast.agent.node_over_https import InClusterNodeApi, parse_quantity
from tests.fake_kubernetes_api import TOKEN, FakeKubernetesApi, node_object
from tests.integration.certificates import make_pki

LABELS = {"topology.kubernetes.io/zone": "europe-west1-b",
          "node.kubernetes.io/instance-type": "e2-standard-4"}


@pytest.fixture
def pod(tmp_path):
    """A service account directory (token, CA) and the fake API over HTTPS signed by that CA."""
    pki = make_pki(tmp_path)
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(TOKEN)
    shutil.copy(pki["ca"], account / "ca.crt")
    nodes = [node_object("node-a", LABELS, cpu="3920m", memory="13594684Ki")]
    with FakeKubernetesApi(nodes, tls=(pki["server"], pki["server_key"])) as api:
        env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(api.port)}
        yield api, env, account


def test_in_a_pod_the_node_is_read_without_the_kubernetes_client(pod):
    api, env, account = pod
    client_was_imported = "kubernetes" in sys.modules
    connection = connect_to_node_api("auto", env, service_account_dir=account)
    assert isinstance(connection.api, InClusterNodeApi)
    metadata = read_node_metadata(connection.api, "node-a")
    assert metadata.labels["node.kubernetes.io/instance-type"] == "e2-standard-4"
    assert metadata.allocatable_cpu_cores == pytest.approx(3.92)
    assert metadata.allocatable_memory_bytes == 13594684 * 1024
    assert api.requests == ["/api/v1/nodes/node-a"]
    assert client_was_imported or "kubernetes" not in sys.modules


def test_an_unknown_node_and_a_rotated_token_are_logged_not_raised(pod, caplog):
    _, env, account = pod
    connection = connect_to_node_api("on", env, service_account_dir=account)
    with caplog.at_level(logging.WARNING):
        assert read_node_metadata(connection.api, "not-a-node") is None
        (account / "token").write_text("a-token-the-api-does-not-know")  # read afresh each time
        assert read_node_metadata(connection.api, "node-a") is None
    assert "cannot read Kubernetes node 'not-a-node' (404 Not Found)" in caplog.text
    assert "cannot read Kubernetes node 'node-a' (401 Unauthorized)" in caplog.text


def test_a_certificate_from_another_ca_is_refused(pod, tmp_path, caplog):
    api, env, account = pod
    (tmp_path / "other").mkdir()
    other = make_pki(tmp_path / "other")
    shutil.copy(other["ca"], account / "ca.crt")
    connection = connect_to_node_api("auto", env, service_account_dir=account)
    with caplog.at_level(logging.WARNING):
        assert read_node_metadata(connection.api, "node-a") is None
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
    assert api.requests == []


def test_off_means_no_kubernetes_even_in_a_pod(pod):
    _, env, account = pod
    assert connect_to_node_api("off", env, service_account_dir=account).api is None


@pytest.mark.parametrize(("text", "value"), [
    ("3920m", 3.92), ("2", 2.0), ("16283716Ki", 16283716 * 1024.0), ("8Gi", 8 * 2.0**30),
    ("1e3", 1000.0), ("93478772582", 93478772582.0), ("1.5M", 1.5e6), ("250u", 250e-6),
])
def test_quantities(text, value):
    assert parse_quantity(text) == pytest.approx(value)


def test_a_malformed_quantity_is_refused():
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity("12 GB")
