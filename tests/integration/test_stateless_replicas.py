"""store=prometheus makes replicas stateless: agents stream through two infracast replicas
into one TSDB (the real VictoriaMetrics); one replica is killed -9; the agents go on
through the other, which forecasts every node; the TSDB holds exactly what was acked."""

from __future__ import annotations

import asyncio
import random
import signal
import time

import pytest

from infracast.agent.backoff import Backoff
from infracast.agent.batches import BatchBuilder
from infracast.agent.shipper import Shipper
from infracast.clients.client import InfracastClient
from infracast.v1 import ingest_pb2
from tests.conftest import ServerProcess, free_port
from tests.tsdb_servers import start_victoria_metrics

pytestmark = pytest.mark.slow
NODES = [f"node-{i}" for i in range(3)]


def test_killing_one_of_two_replicas_loses_nothing_acknowledged(tmp_path):
    tsdb = start_victoria_metrics(tmp_path)
    env = {**tsdb.server_env(), "INFRACAST_PROMETHEUS_STEP": "1s", "INFRACAST_PROFILE": "testing"}
    addresses = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    replicas = [ServerProcess("--listen", address, env=env) for address in addresses]
    base_ms = int(time.time() * 1000) - 600_000
    acked: dict[str, set[int]] = {node: set() for node in NODES}
    submitted = dict.fromkeys(NODES, 0)
    try:
        for replica in replicas:
            replica.wait_ready()

        def recorder(node):
            def record(batch):
                for series in batch.series:
                    acked[node].update(series.timestamps_ms)
            return record

        async def stream(shipper: Shipper, node: str, stop: asyncio.Event) -> None:
            while not stop.is_set():
                builder = BatchBuilder()
                index = submitted[node]
                builder.add_points("replica_probe", {}, [base_ms + index * 1000 + k for k in range(5)],
                                   [float(index)] * 5)
                shipper.submit(builder.build())
                submitted[node] += 1
                await asyncio.sleep(0.02)

        async def scenario():
            # One address for both replicas, as a Service gives: gRPC's pick_first takes the
            # first that answers, and the next one when it goes away.
            target = "ipv4:" + ",".join(addresses)
            shippers = []
            for node in NODES:
                shipper = Shipper(target, ingest_pb2.Hello(node=node, agent_id=node), max_in_flight=4,
                                  backoff=Backoff(initial=0.05, maximum=0.5, rng=random.Random(1)))
                shipper.on_acked = recorder(node)
                shippers.append(shipper)
            stop = asyncio.Event()
            tasks = [asyncio.create_task(s.run()) for s in shippers]
            tasks += [asyncio.create_task(stream(s, n, stop)) for s, n in zip(shippers, NODES, strict=True)]
            await asyncio.sleep(2.0)
            assert all(acked.values()), "the first replica acknowledged batches before the kill"
            replicas[0].process.send_signal(signal.SIGKILL)
            await asyncio.sleep(3.0)
            stop.set()
            for shipper in shippers:
                assert await shipper.flush(timeout=60)
                await shipper.close()
            await asyncio.gather(*tasks)

        asyncio.run(scenario())
        replicas[0].stop()
        assert any("connected" in line for line in replicas[1].log), "agents moved to the survivor"
        for node in NODES:
            assert len(acked[node]) == submitted[node] * 5  # all acknowledged in the end

        tsdb.make_searchable()
        stored = {r["metric"]["node"]: int(r["value"][1])
                  for r in tsdb.query("count_over_time(replica_probe[1h])")}
        assert stored == {node: len(acked[node]) for node in NODES}  # each acked sample, once

        with InfracastClient(replicas[1].address, timeout_s=30) as client:
            series, _ = client.list_series("replica_probe")
            assert {s.series.labels["node"] for s in series} == set(NODES)
            for node in NODES:
                forecast = client.forecast(f'replica_probe{{node="{node}"}}', "30s")
                assert len(forecast.mean) >= 1
                assert forecast.last_value == pytest.approx(submitted[node] - 1, abs=1)
    finally:
        for replica in replicas:
            replica.stop()
        tsdb.daemon.stop()
