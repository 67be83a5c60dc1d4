"""Kubernetes awareness with the real server and agent processes and the official client.

The API server is tests/fake_kubernetes_api.py (there is none to be had here): real HTTP,
responses shaped like the real API's, reached through a real kubeconfig.
"""

import asyncio
import json
import os
import shutil
import subprocess
import time

import numpy as np
import pytest

from infracast.agent.config import AgentConfig
from infracast.agent.kubernetes_node import read_node_metadata
from infracast.agent.main import build_hello, first_node_metadata, refresh_node_metadata
from infracast.agent.shipper import Shipper
from infracast.clients.client import InfracastClient, ServerStatus
from infracast.clients.errors import ClientError, FailedPrecondition
from infracast.common.kubernetes_api import connect
from infracast.server.fleet.cluster_nodes import ClusterNodeLister
from infracast.server.fleet.nodes import NodeRegistry
from infracast.v1 import ingest_pb2
from tests.conftest import ServerProcess, executable, wait_until
from tests.fake_kubernetes_api import TOKEN, FakeKubernetesApi, node_object
from tests.integration.certificates import make_pki
from tests.integration.feed import feed_series

pytestmark = pytest.mark.slow
GKE_LABELS = {"topology.kubernetes.io/zone": "europe-west1-b",
              "topology.kubernetes.io/region": "europe-west1",
              "node.kubernetes.io/instance-type": "e2-standard-4",
              "cloud.google.com/gke-nodepool": "pool-a"}


def cluster() -> FakeKubernetesApi:
    return FakeKubernetesApi([node_object("node-a", GKE_LABELS, cpu="3920m", memory="13594684Ki"),
                              node_object("node-b", GKE_LABELS, cpu="3920m", memory="13594684Ki"),
                              node_object("node-c", GKE_LABELS, cpu="1930m", memory="5918200Ki")])


def no_cluster_env(tmp_path) -> dict[str, str]:
    """An environment where neither a service account nor a kubeconfig can be found (even on
    a developer's machine with a ~/.kube/config: KUBECONFIG names a file that is not there)."""
    env = {key: value for key, value in os.environ.items() if key != "KUBERNETES_SERVICE_HOST"}
    return {**env, "KUBECONFIG": str(tmp_path / "no-kubeconfig")}


def start_agent(address: str, node: str, env: dict[str, str], *extra: str) -> subprocess.Popen:
    return subprocess.Popen([executable("infracast-agent"), "--server", address, "--node", node,
                             "--interval", "300ms", "--collectors", "memory", *extra],
                            stderr=subprocess.PIPE, text=True, env=env)


def status_once_connected(client: InfracastClient) -> ServerStatus:
    """The server's status once an agent has connected."""
    wait_until(lambda: any(n.agent_connected for n in client.status().nodes), timeout_s=60,
               message="an agent connected")
    return client.status()


def stop_agent(agent: subprocess.Popen | None) -> str:
    """Stop the agent and return what it logged."""
    if agent is None:
        return ""
    agent.terminate()
    _, logged = agent.communicate(timeout=30)
    return logged


def test_agents_report_node_metadata_and_the_server_names_nodes_without_one(tmp_path):
    with cluster() as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        env = {**no_cluster_env(tmp_path), "KUBECONFIG": str(kubeconfig)}
        server = ServerProcess(env={"KUBECONFIG": str(kubeconfig)})
        agent = None
        try:
            server.wait_ready()
            agent = start_agent(server.address, "node-a", env)
            with InfracastClient(server.address) as client:
                status = status_once_connected(client)
                state, detail = status.components["kubernetes"]
            nodes = {n.name: n for n in status.nodes}
            # The CLI says the same, and exits 1 because something needs attention.
            cli = subprocess.run([executable("infracast"), "--server", server.address, "status"],
                                 capture_output=True, text=True, timeout=60)
            cli_json = subprocess.run([executable("infracast"), "--server", server.address, "status",
                                       "--json"], capture_output=True, text=True, timeout=60)
        finally:
            stop_agent(agent)
            server.stop()
        requests = list(api.requests)

    assert "/api/v1/nodes/node-a" in requests  # the agent read its own node
    assert "/api/v1/nodes" in requests  # the server listed the cluster
    assert state == "degraded" and detail == "2 of 3 nodes have no agent: node-b, node-c"
    a = nodes["node-a"]
    assert a.agent_connected and a.in_cluster and a.agent_version
    assert a.labels["topology.kubernetes.io/zone"] == "europe-west1-b"
    assert a.labels["cloud.google.com/gke-nodepool"] == "pool-a"
    assert a.allocatable_cpu_cores == pytest.approx(3.92)
    assert a.allocatable_memory_bytes == 13594684 * 1024
    assert not nodes["node-b"].agent_connected and nodes["node-b"].in_cluster
    assert nodes["node-c"].last_connected is None
    assert cli.returncode == 1
    assert "nodes: 1 with an agent connected, 2 without" in cli.stdout
    assert "node-b" in cli.stdout and "never" in cli.stdout
    listed = {n["name"]: n for n in json.loads(cli_json.stdout)["nodes"]}
    assert listed["node-a"]["allocatable_memory_bytes"] == 13594684 * 1024


def test_when_a_node_runs_out_of_allocatable_memory(tmp_path):
    server = ServerProcess(env=no_cluster_env(tmp_path))
    try:
        server.wait_ready()
        now = int(time.time() * 1000)
        times = now - 3 * 3_600_000 + np.arange(1080) * 10_000
        used = 8e9 + np.arange(1080) * 2e5  # +72 MB an hour, for 3 hours: seen 15 hours ahead
        allocatable = 9e9
        hello = ingest_pb2.Hello(node="node-a", agent_id="feed-node-a", allocatable_memory_bytes=allocatable,
                                 allocatable_cpu_cores=3.92)
        feed_series(server.address, "node-a", "infracast_node_memory_used_bytes", {}, times, used, hello)
        feed_series(server.address, "node-z", "infracast_node_memory_used_bytes", {}, times, used)
        with InfracastClient(server.address) as client:
            crossing = client.time_to_threshold('infracast_node_memory_used_bytes{node="node-a"}',
                                                "allocatable-memory", horizon="2d")
            with pytest.raises(ClientError) as unknown:
                client.time_to_threshold('infracast_node_memory_used_bytes{node="node-z"}',
                                         "allocatable-memory")
        cli = subprocess.run([executable("infracast"), "--server", server.address, "when",
                              'infracast_node_memory_used_bytes{node="node-a"}', "--threshold",
                              "allocatable-memory", "--horizon", "2d"],
                             capture_output=True, text=True, timeout=60)
    finally:
        server.stop()
    assert crossing.threshold == allocatable
    # (9e9 - 8.216e9) / 72e6 per hour ≈ 10.9 h after the last sample.
    assert crossing.will_cross and 9 * 3600 < crossing.time_remaining_s < 13 * 3600
    assert isinstance(unknown.value, FailedPrecondition)
    assert "no allocatable memory is known for node 'node-z'" in str(unknown.value)
    assert cli.returncode == 0, cli.stderr
    assert "the node's allocatable-memory" in cli.stdout


def test_without_a_cluster_the_agent_and_server_say_so_once_and_carry_on(tmp_path):
    env = no_cluster_env(tmp_path)
    server = ServerProcess(env=env)
    agent = None
    try:
        server.wait_ready()
        agent = start_agent(server.address, "plain-host", env)
        with InfracastClient(server.address) as client:
            wait_until(lambda: client.list_series('node_memory_MemTotal_bytes{node="plain-host"}')[0],
                       timeout_s=60, message="the agent's samples")
            state, detail = client.status().components["kubernetes"]
    finally:
        agent_log = stop_agent(agent)
        server.stop()
    assert state == "ready" and "not in a cluster" in detail
    assert agent_log.count("no Kubernetes node metadata: not in a cluster") == 1
    assert sum("not listing cluster nodes" in line for line in server.log) == 1


def test_required_but_absent_cluster_stops_the_agent_with_a_message(tmp_path):
    agent = start_agent("127.0.0.1:1", "n1", no_cluster_env(tmp_path), "--kubernetes", "on")
    _, stderr = agent.communicate(timeout=60)
    assert agent.returncode != 0
    assert "INFRACAST_KUBERNETES=on but not in a cluster" in stderr
    assert "Traceback" not in stderr


def test_a_node_the_api_does_not_know_leaves_the_hello_plain(tmp_path):
    with cluster() as api:
        env = {**no_cluster_env(tmp_path), "KUBECONFIG": str(api.write_kubeconfig(tmp_path / "kc"))}
        server = ServerProcess(env=no_cluster_env(tmp_path))
        agent = None
        try:
            server.wait_ready()
            agent = start_agent(server.address, "not-a-node", env)
            with InfracastClient(server.address) as client:
                (node,) = status_once_connected(client).nodes
        finally:
            agent_log = stop_agent(agent)
            server.stop()
    assert node.name == "not-a-node" and node.labels == {} and node.allocatable_memory_bytes == 0
    assert "cannot read Kubernetes node 'not-a-node' (404 Not Found)" in agent_log


def test_in_cluster_the_service_account_is_used_over_https(tmp_path):
    """The in-cluster path, as in a pod: token and CA in the service account directory, the
    API address from KUBERNETES_SERVICE_HOST/PORT, HTTPS verified against that CA."""
    pki = make_pki(tmp_path)
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(TOKEN)
    shutil.copy(pki["ca"], account / "ca.crt")
    nodes = [node_object("node-a", GKE_LABELS, cpu="3920m", memory="13594684Ki"),
             node_object("node-b", {}, cpu="2", memory="8Gi")]
    with FakeKubernetesApi(nodes, tls=(pki["server"], pki["server_key"])) as api:
        env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(api.port)}
        connection = connect("auto", env, service_account_dir=account)
        assert connection.how == "in-cluster service account"
        metadata = read_node_metadata(connection.api, "node-a")
        registry = NodeRegistry()
        ClusterNodeLister(connection.api, registry).refresh()
    assert metadata.labels["node.kubernetes.io/instance-type"] == "e2-standard-4"
    assert metadata.allocatable_memory_bytes == 13594684 * 1024
    assert registry.without_agent() == ["node-a", "node-b"]
    assert api.requests == ["/api/v1/nodes/node-a", "/api/v1/nodes"]


def test_the_agent_rereads_its_node_for_the_next_hello(tmp_path):
    """A node relabelled (or its allocatable changed) reaches the hello the shipper sends next."""
    with cluster() as api:
        env = {"KUBECONFIG": str(api.write_kubeconfig(tmp_path / "kubeconfig"))}
        connection = connect("auto", env)
        config = AgentConfig(server="127.0.0.1:1", node="node-a")
        shipper = Shipper(config.server, build_hello(config, first_node_metadata(config, connection)))
        assert shipper.hello.labels["cloud.google.com/gke-nodepool"] == "pool-a"
        api.nodes["node-a"] = node_object("node-a", {**GKE_LABELS, "cloud.google.com/gke-nodepool": "pool-b"},
                                          cpu="3920m", memory="12Gi")

        async def refresh_twice() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(refresh_node_metadata(config, connection.api, shipper, stop,
                                                             every_s=0.05))
            for _ in range(100):
                await asyncio.sleep(0.05)
                if shipper.hello.labels["cloud.google.com/gke-nodepool"] == "pool-b":
                    break
            stop.set()
            await task

        asyncio.run(refresh_twice())
    assert shipper.hello.labels["cloud.google.com/gke-nodepool"] == "pool-b"
    assert shipper.hello.allocatable_memory_bytes == 12 * 2**30
    assert shipper.hello.node == "node-a"
