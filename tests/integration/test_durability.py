"""Nothing acknowledged is lost: kill -9 the server and the agent, with real processes."""

import asyncio
import random
import signal
import sqlite3
import subprocess
import time

import pytest

from infracast.agent.backoff import Backoff
from infracast.agent.batches import BatchBuilder
from infracast.agent.shipper import Shipper
from infracast.clients.client import InfracastClient
from infracast.v1 import ingest_pb2
from tests.conftest import ServerProcess, executable, free_port, wait_until
from tests.integration.feed import feed_series

pytestmark = pytest.mark.slow
BASE_MS = int(time.time() * 1000) - 3_600_000



def counts(address: str, nodes: list[str]) -> dict[str, int]:
    with InfracastClient(address, timeout_s=30) as client:
        series, _ = client.list_series("durability_probe")
    found = {s.series.labels["node"]: s.sample_count for s in series}
    return {node: found.get(node, 0) for node in nodes}


def test_kill_9_of_the_server_loses_no_acknowledged_sample(tmp_path):
    port = free_port()
    address = f"127.0.0.1:{port}"
    args = ("--listen", address, "--data-dir", str(tmp_path / "data"))
    nodes = [f"node-{i}" for i in range(3)]
    acked: dict[str, set[int]] = {node: set() for node in nodes}
    submitted: dict[str, int] = dict.fromkeys(nodes, 0)
    server = ServerProcess(*args)
    server.wait_ready()

    def recorder(node):
        def record(batch):
            for series in batch.series:
                acked[node].update(series.timestamps_ms)
        return record

    async def stream(shipper: Shipper, node: str, stop: asyncio.Event) -> None:
        while not stop.is_set():
            builder = BatchBuilder()
            index = submitted[node]
            builder.add_points("durability_probe", {}, [BASE_MS + index * 1000 + k for k in range(5)],
                               [float(index)] * 5)
            shipper.submit(builder.build())
            submitted[node] += 1
            await asyncio.sleep(0.02)

    async def scenario():
        nonlocal server
        shippers = []
        for node in nodes:
            shipper = Shipper(address, ingest_pb2.Hello(node=node, agent_id=node), max_in_flight=4,
                              backoff=Backoff(initial=0.05, maximum=0.5, rng=random.Random(1)))
            shipper.on_acked = recorder(node)
            shippers.append(shipper)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(s.run()) for s in shippers]
        tasks += [asyncio.create_task(stream(s, n, stop)) for s, n in zip(shippers, nodes, strict=True)]
        acked_at_kill = dict.fromkeys(nodes, 0)
        for _ in range(3):
            # Kill once every stream has had more acknowledged since the last restart.
            await asyncio.to_thread(wait_until, lambda since=acked_at_kill: all(
                len(acked[node]) >= since[node] + 50 for node in nodes), 60, 0.05,
                "acks from every stream")
            acked_at_kill = {node: len(acked[node]) for node in nodes}
            server.process.send_signal(signal.SIGKILL)
            server.stop()
            server = ServerProcess(*args)
            await asyncio.to_thread(server.wait_ready)
            stored = await asyncio.to_thread(counts, address, nodes)
            for node in nodes:  # every sample acknowledged before the kill is back
                assert stored[node] >= acked_at_kill[node], (node, stored, acked_at_kill)
        stop.set()
        for shipper in shippers:
            assert await shipper.flush(timeout=60)
            await shipper.close()
        await asyncio.gather(*tasks)

    try:
        asyncio.run(scenario())
        stored = counts(address, nodes)
    finally:
        assert server.stop() == 0
    for node in nodes:
        assert len(acked[node]) == submitted[node] * 5  # everything was acknowledged in the end
        assert stored[node] == len(acked[node])  # all of it stored, nothing twice
    assert sum(line.count("replayed") for line in server.log) == 1


def spooled_batches(directory) -> int:
    """Batches in the agent's spool, read from another connection as the agent writes it."""
    if not (directory / "spool.sqlite").exists():
        return 0
    connection = sqlite3.connect(directory / "spool.sqlite", timeout=5)
    try:
        return connection.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
    except sqlite3.OperationalError:  # the agent has not created the table yet
        return 0
    finally:
        connection.close()


def test_kill_9_of_the_agent_keeps_its_spooled_batches(tmp_path):
    port = free_port()
    address = f"127.0.0.1:{port}"
    agent_args = [executable("infracast-agent"), "--server", address, "--node", "spooled",
                  "--interval", "100ms", "--collectors", "load", "--spool-dir", str(tmp_path / "spool")]
    agent = subprocess.Popen(agent_args, stderr=subprocess.DEVNULL)
    wait_until(lambda: spooled_batches(tmp_path / "spool") >= 15, 60, 0.05,
               "batches in the spool (no server yet)")
    killed_at_ms = int(time.time() * 1000)
    agent.kill()
    agent.wait()
    server = ServerProcess("--listen", address)
    server.wait_ready()
    agent = subprocess.Popen(agent_args, stderr=subprocess.DEVNULL)
    try:
        with InfracastClient(address, timeout_s=30) as client:
            def delivered_from_before_the_kill():
                series, _ = client.list_series('node_load1{node="spooled"}')
                return (series and series[0].first.timestamp() * 1000 < killed_at_ms - 1000
                        and series[0].sample_count >= 10 and series)

            wait_until(delivered_from_before_the_kill, timeout_s=60,
                       message="10 spooled samples from before the kill")
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(30)
        server.stop()


def test_a_second_server_on_the_same_data_directory_refuses_to_start(tmp_path):
    first = ServerProcess("--data-dir", str(tmp_path))
    try:
        first.wait_ready()
        second = subprocess.run([executable("infracast-server"), "--listen", "127.0.0.1:0",
                                 "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert f"data directory {tmp_path} is in use by another infracast-server" in second.stderr
        assert "Traceback" not in second.stderr and "listening" not in second.stderr
    finally:
        assert first.stop() == 0


def test_sigterm_during_ingest_loses_nothing_acknowledged_and_exits_in_the_grace_period(tmp_path):
    port = free_port()
    address = f"127.0.0.1:{port}"
    args = ("--listen", address, "--data-dir", str(tmp_path), "--grace-period", "3s")
    server = ServerProcess(*args)
    server.wait_ready()
    acked: set[int] = set()

    async def scenario() -> float:
        shipper = Shipper(address, ingest_pb2.Hello(node="term", agent_id="term"),
                          backoff=Backoff(initial=0.05, maximum=0.2, rng=random.Random(2)))
        shipper.on_acked = lambda batch: acked.update(batch.series[0].timestamps_ms)
        task = asyncio.create_task(shipper.run())
        for index in range(200):
            builder = BatchBuilder()
            builder.add_points("durability_probe", {}, [BASE_MS + index * 1000], [float(index)])
            shipper.submit(builder.build())
            await asyncio.sleep(0.005)
            if index == 100:
                # Signal in the middle of ingest, once some of it is acknowledged.
                await asyncio.to_thread(wait_until, lambda: len(acked) >= 50, 60, 0.01, "50 acks")
                signalled = time.monotonic()
                server.process.send_signal(signal.SIGTERM)
        exit_code = await asyncio.to_thread(server.process.wait, 30)
        elapsed = time.monotonic() - signalled
        assert exit_code == 0
        await shipper.close()
        await task
        return elapsed

    elapsed = asyncio.run(scenario())
    assert elapsed < 3.0 + 1.0  # the grace period, plus the time to flush and exit
    server.stop()
    restarted = ServerProcess(*args)
    try:
        restarted.wait_ready()
        stored = counts(address, ["term"])["term"]
    finally:
        restarted.stop()
    assert len(acked) >= 50 and stored >= len(acked)



def test_online_backup_restores_into_a_new_server(tmp_path):
    """The backup and restore that docs/deployment.md describes, done as it says."""
    live, restored_dir = tmp_path / "live", tmp_path / "restored"
    live.mkdir()
    restored_dir.mkdir()
    server = ServerProcess("--data-dir", str(live))
    try:
        server.wait_ready()
        feed_series(server.address, "b1", "durability_probe", {}, [BASE_MS + i * 1000 for i in range(500)],
                    range(500))
        # SQLite's online backup, from another process, while the server runs and holds its lock.
        source = sqlite3.connect(live / "samples.sqlite")
        target = sqlite3.connect(restored_dir / "samples.sqlite")
        with target:
            source.backup(target)
        source.close()
        target.close()
        feed_series(server.address, "b1", "durability_probe", {}, [BASE_MS + 600_000], [1.0])  # after it
    finally:
        server.stop()
    restored = ServerProcess("--data-dir", str(restored_dir))
    try:
        restored.wait_ready()
        assert counts(restored.address, ["b1"]) == {"b1": 500}
    finally:
        restored.stop()
