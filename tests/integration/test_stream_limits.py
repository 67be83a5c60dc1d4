"""Streams that say hello and nothing else (or not even hello) cannot lock out health
checks, queries or real agents, and end by themselves.

On a real server process, flooded from this test's own asyncio gRPC client.
"""

import asyncio
import collections
import contextlib
import random
import time

import grpc
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from infracast.agent.backoff import Backoff
from infracast.agent.batches import BatchBuilder
from infracast.agent.shipper import Shipper
from infracast.v1 import forecast_pb2, forecast_pb2_grpc, ingest_pb2, ingest_pb2_grpc
from tests.conftest import ServerProcess

pytestmark = pytest.mark.slow
FLOOD = 3000  # 1,500 hello-only streams and 1,500 silent ones
CONNECTIONS = 30
MAX_STREAMS = 1000  # well below the flood, so it is reached even on a slow machine
IDLE_S = 3


async def _flood_stream(stub, index: int, hello: bool) -> grpc.StatusCode:
    call = stub.Push()
    try:
        if hello:
            # A refused stream may already be over: its status tells, not the failed write.
            with contextlib.suppress(grpc.RpcError, asyncio.InvalidStateError):
                await call.write(ingest_pb2.PushRequest(hello=ingest_pb2.Hello(
                    node=f"flood-{index}", agent_id=f"flood-{index}")))
        return await call.code(), await call.details()
    finally:
        call.cancel()


async def _flood_and_probe(address: str) -> dict:
    channels = [aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(CONNECTIONS)]
    try:
        stubs = [ingest_pb2_grpc.IngestServiceStub(channel) for channel in channels]
        started = time.monotonic()
        flood = [asyncio.ensure_future(_flood_stream(stubs[i % CONNECTIONS], i, hello=i % 2 == 0))
                 for i in range(FLOOD)]
        # Once one is refused, the server holds MAX_STREAMS of them: probe it now.
        for finished in asyncio.as_completed(flood):
            code, _ = await finished
            if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
                break
        async with aio.insecure_channel(address) as probe:
            checked = time.monotonic()
            health = await health_pb2_grpc.HealthStub(probe).Check(
                health_pb2.HealthCheckRequest(service="infracast.v1.IngestService"), timeout=5)
            health_s = time.monotonic() - checked
            listed = await forecast_pb2_grpc.ForecastServiceStub(probe).ListSeries(
                forecast_pb2.ListSeriesRequest(), timeout=5)

            # A real agent: refused while the flood holds every slot, in once its streams
            # time out (hello-only ones after IDLE_S, silent ones after the 10 s hello deadline).
            shipper = Shipper(address, ingest_pb2.Hello(node="real", agent_id="real"),
                              backoff=Backoff(initial=0.05, maximum=0.5, rng=random.Random(2)))
            builder = BatchBuilder()
            builder.add_points("node_load1", {}, [int(time.time() * 1000)], [1.0])
            shipper.submit(builder.build())
            running = asyncio.create_task(shipper.run())
            try:
                delivered = await shipper.flush(timeout=60)
            finally:
                await shipper.close()
                await asyncio.wait_for(running, 10)
        codes = await asyncio.wait_for(asyncio.gather(*flood), 60)  # every flood stream ended
        return {"health": health.status, "health_s": health_s, "listed": len(listed.series),
                "delivered": delivered, "codes": codes, "seconds": time.monotonic() - started}
    finally:
        for channel in channels:
            await channel.close()


def test_hello_only_streams_cannot_lock_out_health_queries_or_agents():
    server = ServerProcess("--max-streams", str(MAX_STREAMS), "--stream-idle-timeout", f"{IDLE_S}s")
    try:
        server.wait_ready()
        result = asyncio.run(asyncio.wait_for(_flood_and_probe(server.address), 180))
        print(f"health answered in {result['health_s'] * 1000:.0f} ms during the flood; "
              f"the flood ended after {result['seconds']:.1f}s")
        assert result["health"] == health_pb2.HealthCheckResponse.SERVING
        assert result["listed"] == 0
        assert result["delivered"], "the real agent's batch was not acknowledged"
        codes = collections.Counter(code for code, _ in result["codes"])
        said = collections.Counter(details.split(";")[0].split(":")[0] for _, details in result["codes"])
        # Every stream the server took ended by itself: silent ones at the hello deadline,
        # hello-only ones when idle. The others were refused (a client whose write raced
        # the refusal sees CANCELLED or INTERNAL instead: grpc's client, not the server).
        assert said["no hello within 10s of opening the stream"] > 0
        assert said["no batch for 3s (stream_idle_timeout"] > 0
        assert codes[grpc.StatusCode.DEADLINE_EXCEEDED] >= MAX_STREAMS
        assert codes[grpc.StatusCode.RESOURCE_EXHAUSTED] > 0
        refused_as = {grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.CANCELLED, grpc.StatusCode.INTERNAL}
        assert set(codes) <= {grpc.StatusCode.DEADLINE_EXCEEDED} | refused_as, codes
    finally:
        server.stop()


def test_an_agents_new_stream_replaces_its_old_one(server):
    async def scenario():
        async with aio.insecure_channel(server.address) as channel:
            stub = ingest_pb2_grpc.IngestServiceStub(channel)
            hello = ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="twice", agent_id="same"))
            old, new = stub.Push(), stub.Push()
            await old.write(hello)
            await old.write(ingest_pb2.PushRequest(batch=ingest_pb2.Batch(sequence=1)))
            assert (await old.read()).ack.highest_sequence == 1  # the old stream is live
            await new.write(hello)
            assert await asyncio.wait_for(old.code(), 10) == grpc.StatusCode.ABORTED
            assert "replaced by a newer stream of agent same" in await old.details()
            await new.write(ingest_pb2.PushRequest(batch=ingest_pb2.Batch(sequence=1)))
            assert (await new.read()).ack.highest_sequence == 1
            # Another node's agent of the same id is another agent: nothing is replaced.
            other = stub.Push()
            await other.write(ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="elsewhere",
                                                                            agent_id="same")))
            await other.write(ingest_pb2.PushRequest(batch=ingest_pb2.Batch(sequence=1)))
            assert (await other.read()).ack.highest_sequence == 1
            await new.done_writing()
            assert await new.code() == grpc.StatusCode.OK
            other.cancel()

    asyncio.run(scenario())


def test_health_checks_are_answered_when_every_rpc_slot_is_taken():
    from infracast.clients.testing import running_server
    from infracast.server.config import ServerConfig

    config = ServerConfig(listen="127.0.0.1:0", grace_period_s=0.5, max_concurrent_rpcs=1)

    async def scenario(address: str):
        async with aio.insecure_channel(address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            watch = health.Watch(health_pb2.HealthCheckRequest(service=""))  # holds the one slot
            assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
            listing = forecast_pb2_grpc.ForecastServiceStub(channel).ListSeries(
                forecast_pb2.ListSeriesRequest(), timeout=10)
            with pytest.raises(grpc.RpcError) as raised:
                await listing
            assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "(INFRACAST_MAX_CONCURRENT_RPCS=1)" in raised.value.details()
            for service in ("", "infracast.v1.ForecastService"):
                answer = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
                assert answer.status == health_pb2.HealthCheckResponse.SERVING
            watch.cancel()

    with running_server(config) as server:
        asyncio.run(scenario(server.address))
