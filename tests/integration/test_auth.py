"""Bearer tokens: separate ingest and query permissions, node binding, rotation, audit."""

import asyncio
import time

import grpc
import pytest
from grpc import aio

from infracast.clients.client import InfracastClient
from infracast.clients.errors import NotAuthorized
from infracast.clients.testing import running_server
from infracast.server.config import ServerConfig
from infracast.v1 import ingest_pb2, ingest_pb2_grpc, series_pb2
from tests.conftest import wait_until

INGEST = "ingest-token-0123456789"
QUERY = "query-token-0123456789"
BOUND = "node-bound-token-0123456789"
NOW_MS = int(time.time() * 1000)


def push(address: str, token: str | None, node: str) -> list:
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    batch = ingest_pb2.Batch(sequence=1, series=[series_pb2.SeriesSamples(
        key=series_pb2.SeriesKey(metric="node_load1"), timestamps_ms=[NOW_MS], values=[1.0])])
    requests = [ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node=node, agent_id=node)),
                ingest_pb2.PushRequest(batch=batch)]
    with grpc.insecure_channel(address) as channel:
        return list(ingest_pb2_grpc.IngestServiceStub(channel).Push(iter(requests), timeout=30,
                                                                    metadata=metadata))


@pytest.fixture
def secured(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# token permissions [node]\n{INGEST} ingest\n{QUERY} query\n{BOUND} ingest n7\n")
    config = ServerConfig(listen="127.0.0.1:0", grace_period_s=0.5, tokens_file=tokens)
    with running_server(config) as server:
        yield server, tokens


def test_ingest_and_query_need_their_own_permission(secured, caplog):
    server, _ = secured
    assert push(server.address, INGEST, "n1")[0].ack.highest_sequence == 1
    with pytest.raises(grpc.RpcError) as raised:
        push(server.address, None, "n1")
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as raised:
        push(server.address, QUERY, "n1")
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with InfracastClient(server.address, token=QUERY) as client:
        assert client.list_series()[0][0].series.labels["node"] == "n1"
        assert client.health() == "SERVING"
    with InfracastClient(server.address) as anonymous:
        assert anonymous.health() == "SERVING"  # health needs no token
        with pytest.raises(NotAuthorized, match="unauthenticated"):
            anonymous.list_series()
    with InfracastClient(server.address, token=INGEST) as ingest_only, \
            pytest.raises(NotAuthorized, match="lacks the query permission"):
        ingest_only.list_series()
    audit = " ".join(r.getMessage() for r in caplog.records if r.name == "infracast.audit")
    assert "refused" in audit and INGEST not in audit and QUERY not in audit


def test_a_node_bound_token_pushes_only_its_node(secured):
    server, _ = secured
    assert push(server.address, BOUND, "n7")[0].ack.highest_sequence == 1
    with pytest.raises(grpc.RpcError) as raised:
        push(server.address, BOUND, "n8")
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "only push series of node 'n7'" in raised.value.details()


def test_tokens_rotate_without_a_restart(secured):
    server, tokens = secured
    rotated = "rotated-token-0123456789"
    tokens.write_text(f"{rotated} ingest,query\n")

    def rotated_works():  # the file is checked at most every 2 s
        with InfracastClient(server.address, token=rotated) as client:
            try:
                return client.list_series() == ([], False)
            except NotAuthorized:
                return False

    wait_until(rotated_works, timeout_s=10, message="the rotated token")
    with InfracastClient(server.address, token=QUERY) as old, pytest.raises(NotAuthorized):
        old.list_series()


def batch_request(sequence: int) -> ingest_pb2.PushRequest:
    return ingest_pb2.PushRequest(batch=ingest_pb2.Batch(sequence=sequence, series=[
        series_pb2.SeriesSamples(key=series_pb2.SeriesKey(metric="node_load1"),
                                 timestamps_ms=[NOW_MS + sequence], values=[1.0])]))


async def open_stream(stub, token: str, node: str):
    """A Push stream that said hello and has one batch acknowledged."""
    call = stub.Push(metadata=(("authorization", f"Bearer {token}"),))
    await call.write(ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node=node, agent_id=node)))
    await call.write(batch_request(1))
    assert (await call.read()).ack.highest_sequence == 1
    return call


def test_revoking_a_token_ends_its_open_stream(secured):
    server, tokens = secured

    async def scenario():
        async with aio.insecure_channel(server.address) as channel:
            stub = ingest_pb2_grpc.IngestServiceStub(channel)
            revoked = await open_stream(stub, INGEST, "n1")
            kept = await open_stream(stub, BOUND, "n7")
            tokens.write_text(f"{QUERY} query\n{BOUND} ingest n7\n")  # INGEST is gone
            assert await asyncio.wait_for(revoked.code(), 10) == grpc.StatusCode.UNAUTHENTICATED
            assert "the token was revoked: this stream may push no more" in await revoked.details()
            with pytest.raises(grpc.RpcError):  # no more acks
                await revoked.read()
            await kept.write(batch_request(2))  # a token the new file keeps keeps its stream
            assert (await kept.read()).ack.highest_sequence == 2
            kept.cancel()

    asyncio.run(scenario())


def test_an_agent_process_authenticates_with_its_token_file(secured, tmp_path):
    import subprocess

    from tests.conftest import executable, wait_until

    server, _ = secured
    token_file = tmp_path / "agent-token"
    token_file.write_text(BOUND + "\n")
    agent = subprocess.Popen([executable("infracast-agent"), "--server", server.address, "--node", "n7",
                              "--interval", "200ms", "--collectors", "load", "--token-file", str(token_file)],
                             stderr=subprocess.DEVNULL)
    try:
        with InfracastClient(server.address, token=QUERY) as client:
            wait_until(lambda: client.list_series('node_load1{node="n7"}')[0], timeout_s=60,
                       message="the agent's samples")
    finally:
        agent.terminate()
        agent.wait(30)


@pytest.mark.parametrize(("content", "says"), [
    ("short ingest\n", "at least 16 characters"),
    ("a-long-enough-token-123 write\n", "unknown permission 'write'"),
    ("only-one-field-here-123\n", "expected '<token> <permissions> [node]'"),
])
def test_a_bad_tokens_file_stops_the_server_at_start(tmp_path, content, says, capsys):
    from infracast.server.config import load_config

    tokens = tmp_path / "tokens"
    tokens.write_text(content)
    with pytest.raises(SystemExit) as exited:
        load_config(["--tokens-file", str(tokens)], {})
    assert exited.value.code == 2 and says in capsys.readouterr().err
