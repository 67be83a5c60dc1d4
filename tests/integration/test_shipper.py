"""The agent's shipper against a real server that goes away and comes back."""

import asyncio
import random
import time

import pytest

from infracast.agent.backoff import Backoff
from infracast.agent.batches import BatchBuilder
from infracast.agent.shipper import Shipper
from infracast.clients.client import InfracastClient
from infracast.clients.testing import running_server
from infracast.server.config import ServerConfig
from infracast.v1 import ingest_pb2
from tests.conftest import free_port

pytestmark = pytest.mark.slow
T0 = int(time.time() * 1000) - 3_600_000



def config(port: int) -> ServerConfig:
    return ServerConfig(listen=f"127.0.0.1:{port}", grace_period_s=0.5)


def samples(index: int, metric: str = "node_load1") -> list:
    builder = BatchBuilder()
    builder.add_points(metric, {}, [T0 + index * 1000], [float(index)])
    return builder.build()


def new_shipper(port: int, **options) -> Shipper:
    hello = ingest_pb2.Hello(node="ship-node", agent_id="ship-agent")
    backoff = Backoff(initial=0.05, maximum=0.3, rng=random.Random(3))
    return Shipper(f"127.0.0.1:{port}", hello, backoff=backoff, **options)


def stored_count(address: str) -> int:
    with InfracastClient(address) as client:
        series, _ = client.list_series('node_load1{node="ship-node"}')
        return series[0].sample_count if series else 0


def stored_range(address: str) -> tuple[float, float]:
    with InfracastClient(address) as client:
        (info,), _ = client.list_series('node_load1{node="ship-node"}')
        return (info.first.timestamp() * 1000 - T0) / 1000, info.last_value


async def run_shipper(shipper: Shipper, body):
    task = asyncio.create_task(shipper.run())
    try:
        return await body()
    finally:
        await shipper.close()
        await asyncio.wait_for(task, 10)


def test_buffered_batches_are_delivered_after_the_server_returns():
    port = free_port()
    shipper = new_shipper(port)

    async def body():
        with running_server(config(port)):
            for i in range(3):
                shipper.submit(samples(i))
            assert await shipper.flush(timeout=20)
        # The server is gone: keep sampling through several backoff cycles.
        for i in range(3, 8):
            shipper.submit(samples(i))
        await asyncio.sleep(1.5)
        assert shipper.buffered_batches == 5
        assert shipper.stats.reconnects >= 3
        with running_server(config(port)) as second:
            assert await shipper.flush(timeout=30)
            return await asyncio.to_thread(stored_count, second.address)

    assert asyncio.run(run_shipper(shipper, body)) == 5  # batches 3..7 reached the new server
    assert shipper.stats.batches_acked == 8 and shipper.stats.batches_dropped == 0


def test_a_full_buffer_drops_exactly_the_oldest_and_counts_them():
    port = free_port()
    shipper = new_shipper(port, max_buffered_batches=3)

    async def body():
        for i in range(5):
            shipper.submit(samples(i))
        await asyncio.sleep(0.3)  # server not there yet
        with running_server(config(port)) as server:
            assert await shipper.flush(timeout=30)
            return await asyncio.to_thread(stored_range, server.address)

    first_offset, last_value = asyncio.run(run_shipper(shipper, body))
    assert (shipper.stats.batches_dropped, shipper.stats.samples_dropped) == (2, 2)
    assert first_offset == pytest.approx(2.0) and last_value == 4.0  # batches 2, 3, 4 kept


def test_a_batch_the_server_refuses_is_dropped_not_retried_forever():
    port = free_port()
    shipper = new_shipper(port)

    async def body():
        with running_server(config(port)) as server:
            shipper.submit(samples(0))
            shipper.submit(samples(1, metric="not a metric"))
            shipper.submit(samples(2))
            assert await shipper.flush(timeout=30)
            return await asyncio.to_thread(stored_count, server.address)

    assert asyncio.run(run_shipper(shipper, body)) == 2
    assert shipper.stats.batches_rejected == 1


def test_a_draining_server_ends_streams_with_a_retry_hint_the_agent_reads():
    from grpc import aio

    from infracast.agent.shipper import retry_hint_s
    from infracast.clients.testing import ServerThread
    from infracast.v1 import ingest_pb2_grpc

    server = ServerThread(config(free_port())).start()

    async def body():
        async with aio.insecure_channel(server.address) as channel:
            call = ingest_pb2_grpc.IngestServiceStub(channel).Push()
            await call.write(ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="drain", agent_id="d")))
            await call.write(ingest_pb2.PushRequest(batch=ingest_pb2.Batch(sequence=1, series=samples(0))))
            first = await call.read()
            await asyncio.to_thread(server.stop)  # graceful stop: drain the open stream
            try:
                await call.read()
            except aio.AioRpcError as error:
                return first, error
            return first, None

    first, error = asyncio.run(body())
    assert first.ack.highest_sequence == 1
    assert error is not None and error.code().name == "UNAVAILABLE"
    assert "shutting down" in error.details()
    assert retry_hint_s(error) == 0.0


def test_the_agent_logs_one_line_per_connection_state_change(caplog):
    import gc
    import logging

    port = free_port()
    shipper = new_shipper(port)

    async def wait_for(condition, timeout_s=30.0):
        async with asyncio.timeout(timeout_s):
            while not condition():
                await asyncio.sleep(0.02)

    async def body():
        with running_server(config(port)):
            shipper.submit(samples(0))
            assert await shipper.flush(timeout=20)
        shipper.submit(samples(1))
        await wait_for(lambda: shipper.stats.reconnects >= 6)  # six failed attempts
        gc.collect()  # an unretrieved task exception is logged when its task is collected
        with running_server(config(port)):
            assert await shipper.flush(timeout=30)

    with caplog.at_level(logging.DEBUG):
        asyncio.run(run_shipper(shipper, body))
    gc.collect()
    lines = [r.getMessage() for r in caplog.records
             if r.name in ("infracast.agent.shipper", "asyncio") and r.levelno >= logging.INFO]
    assert not any("never retrieved" in line for line in lines), lines
    assert [line.split(" 127.0.0.1")[0] for line in lines] == [
        "connected to", "lost the stream to", "reconnected to"], lines
    assert "retrying" in lines[1]
    assert "failed attempts" in lines[2]
    retries = [r for r in caplog.records
               if r.name == "infracast.agent.shipper" and r.levelno == logging.DEBUG]
    assert len(retries) >= 5  # each retry is there for whoever asks for debug logs
