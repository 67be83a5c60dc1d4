"""Agents in Kubernetes authenticate with their pod's projected token, bound to their node.

Real server and agent processes and the official Kubernetes client; the API server that
answers TokenReview is tests/fake_kubernetes_api.py (there is none to be had here), with
answers shaped like a real one's for pod-bound projected tokens.
"""

import asyncio
import base64
import json
import os
import time

import grpc
import pytest
from grpc import aio

from infracast.clients.client import InfracastClient
from infracast.v1 import ingest_pb2_grpc
from tests.conftest import ServerProcess, wait_until
from tests.integration.test_auth import open_stream, push
from tests.integration.test_kubernetes import cluster, no_cluster_env, start_agent, stop_agent

pytestmark = pytest.mark.slow
QUERY = "query-token-0123456789"
AGENTS = "system:serviceaccount:infracast:infracast-agent"


def jwt(subject: str, expires_at: float | None = None) -> str:
    """A token shaped like a projected service-account token (header.claims.signature)."""
    fields = {"sub": subject} if expires_at is None else {"sub": subject, "exp": int(expires_at)}
    claims = base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.{claims}.c2lnbmF0dXJl"


NODE_A, BUILDER, UNBOUND, FORGED, NODE_C = map(jwt, ("node-a", "builder", "unbound", "forged", "node-c"))


def refusal(address: str, token: str, node: str) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        push(address, token, node)
    return raised.value


def test_agent_tokens_are_reviewed_once_and_bound_to_the_pods_node(tmp_path):
    with cluster() as api:
        api.service_account_tokens = {
            NODE_A: (AGENTS, "node-a"),
            BUILDER: ("system:serviceaccount:ci:builder", "node-a"),
            UNBOUND: (AGENTS, None),
        }
        env = {**os.environ, "KUBECONFIG": str(api.write_kubeconfig(tmp_path / "kubeconfig"))}
        tokens = tmp_path / "tokens"
        tokens.write_text(f"{QUERY} query\n")
        server = ServerProcess("--tokens-file", str(tokens), "--agent-service-account",
                               "infracast/infracast-agent", env=env)
        agent = None
        try:
            server.wait_ready()
            token_file = tmp_path / "token"
            token_file.write_text(NODE_A + "\n")
            agent = start_agent(server.address, "node-a", env, "--token-file", str(token_file))
            with InfracastClient(server.address, timeout_s=30, token=QUERY) as client:
                wait_until(lambda: client.list_series('node_memory_MemAvailable_bytes{node="node-a"}')[0],
                           timeout_s=60, message="node-a's series")

            # The same token may not speak for another node.
            denied = refusal(server.address, NODE_A, "node-b")
            assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
            assert "only push series of node 'node-a'" in denied.details()
            reviews = [r for r in api.requests if "tokenreviews" in r]
            assert len(reviews) == 1, "a token is reviewed once, then its answer is cached"

            other = refusal(server.address, BUILDER, "node-a")
            assert other.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "system:serviceaccount:ci:builder is not the agents' service account" in other.details()
            unbound = refusal(server.address, UNBOUND, "node-a")
            assert unbound.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "not bound to a pod on a node" in unbound.details()
            forged = refusal(server.address, FORGED, "node-a")
            assert forged.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "did not accept the token" in forged.details()
            asked = len([r for r in api.requests if "tokenreviews" in r])
            garbage = refusal(server.address, "not-even-shaped-like-a-token", "node-a")
            assert garbage.code() == grpc.StatusCode.UNAUTHENTICATED
            assert len([r for r in api.requests if "tokenreviews" in r]) == asked, "not sent to the API"
            # Query tokens still come from the file only: an agent's token cannot read.
            with InfracastClient(server.address, timeout_s=30, token=NODE_A) as client, \
                    pytest.raises(Exception, match="unknown token"):
                client.list_series("node_load1")

            api.reviews_fail = True
            api.service_account_tokens[NODE_C] = (AGENTS, "node-c")
            unavailable = refusal(server.address, NODE_C, "node-c")
            assert unavailable.code() == grpc.StatusCode.UNAVAILABLE
            assert "cannot verify the token with the Kubernetes API now" in unavailable.details()
        finally:
            logged = stop_agent(agent)
            assert server.stop() == 0, logged
    audit = "".join(server.log)
    assert not any(token in audit for token in (NODE_A, BUILDER, UNBOUND, FORGED, NODE_C)), \
        "tokens never reach the log"
    assert "refused /infracast.v1.IngestService/Push" in audit


def test_agent_service_accounts_need_a_cluster_and_a_tokens_file(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{QUERY} query\n")
    server = ServerProcess("--tokens-file", str(tokens), "--agent-service-account", "infracast/agent",
                           env=no_cluster_env(tmp_path))
    assert server.process.wait(60) == 1
    server.stop()
    assert any("INFRACAST_AGENT_SERVICE_ACCOUNT needs the Kubernetes API, but not in a cluster" in line
               for line in server.log)


def test_a_stream_ends_when_its_projected_token_expires(tmp_path):
    with cluster() as api:
        env = {**os.environ, "KUBECONFIG": str(api.write_kubeconfig(tmp_path / "kubeconfig"))}
        tokens = tmp_path / "tokens"
        tokens.write_text(f"{QUERY} query\n")
        server = ServerProcess("--tokens-file", str(tokens), "--agent-service-account",
                               "infracast/infracast-agent", env=env)
        try:
            server.wait_ready()
            expiring = jwt("expiring", expires_at=time.time() + 3)
            api.service_account_tokens = {expiring: (AGENTS, "node-a")}

            async def scenario():
                async with aio.insecure_channel(server.address) as channel:
                    call = await open_stream(ingest_pb2_grpc.IngestServiceStub(channel), expiring, "node-a")
                    assert await asyncio.wait_for(call.code(), 30) == grpc.StatusCode.UNAUTHENTICATED
                    assert "the token has expired" in await call.details()
                    assert time.time() >= json.loads(base64.urlsafe_b64decode(
                        expiring.split(".")[1] + "==="))["exp"]

            asyncio.run(scenario())
            # Its review is cached for a minute, but an expired token opens no new stream.
            again = refusal(server.address, expiring, "node-a")
            assert again.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "the token has expired" in again.details()
        finally:
            server.stop()
