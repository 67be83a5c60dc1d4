"""A full disk loses nothing: the server's data directory on a real, small tmpfs that
fills in the middle of ingest and grows again. Real server process, real shippers."""

import asyncio
import random
import re
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from infracast.agent.backoff import Backoff
from infracast.agent.batches import BatchBuilder
from infracast.agent.shipper import Shipper, retry_hint_s
from infracast.clients.client import InfracastClient
from infracast.server.store.sample_log import read_committed
from infracast.v1 import ingest_pb2, ingest_pb2_grpc, series_pb2
from tests.conftest import ServerProcess, free_port, wait_until

pytestmark = pytest.mark.slow
BASE_MS = int(time.time() * 1000) - 3_600_000
NODES = [f"disk-{i}" for i in range(3)]
FAILING = re.compile("cannot write to the sample log")
RECOVERED = re.compile("writing to the sample log in .* again")


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[tuple[Path, Callable[[str], None]]]:
    """A tmpfs of 1 MiB under tmp_path, and a function that resizes it (e.g. "64m")."""
    mountpoint = tmp_path / "fs"
    mountpoint.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)],
                                 capture_output=True, text=True)
    except FileNotFoundError:
        pytest.skip("cannot mount a tmpfs here: no mount command")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {mounted.stderr.strip()}")

    def resize(size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(mountpoint)], check=True)

    try:
        yield mountpoint, resize
    finally:
        if subprocess.run(["umount", str(mountpoint)]).returncode != 0:
            # Still busy (a server the test failed to stop): detach it all the same.
            subprocess.run(["umount", "--lazy", str(mountpoint)], check=True)


def push_once(address: str, node: str) -> grpc.RpcError | None:
    """One batch on a fresh stream; the error it was answered with, if any. Big enough
    not to fit in the pages the full disk still has."""
    batch = ingest_pb2.Batch(sequence=1, series=[series_pb2.SeriesSamples(
        key=series_pb2.SeriesKey(metric="full_disk_probe", labels={"series": "once"}),
        timestamps_ms=[BASE_MS + i for i in range(5000)], values=[1.0] * 5000)])
    requests = [ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="probe", agent_id="probe")),
                ingest_pb2.PushRequest(batch=batch)]
    with grpc.insecure_channel(address) as channel:
        try:
            list(ingest_pb2_grpc.IngestServiceStub(channel).Push(iter(requests), timeout=30))
        except grpc.RpcError as error:
            return error
    return None


def metric(port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    found = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
    assert found, f"{name} not in:\n{text}"
    return float(found.group(1))


def stored_rows(database: Path) -> dict[tuple[str, str], dict[int, float]]:
    """Every sample in the log, by (node, series label): read from the file by a connection
    of its own (a resent sample stored twice reads once, the first committed)."""
    stored: dict[tuple[str, str], dict[int, float]] = {}
    for key, (times, values) in read_committed(database).items():
        if key.metric == "full_disk_probe":
            label_map = key.label_map
            series = (label_map["node"], label_map["series"])
            stored[series] = dict(zip(times.tolist(), values.tolist(), strict=True))
    return stored


def test_a_disk_that_fills_mid_ingest_and_grows_again_loses_no_acknowledged_sample(small_filesystem):
    mountpoint, resize = small_filesystem
    data = mountpoint / "data"
    address = f"127.0.0.1:{free_port()}"
    metrics_port = free_port()
    args = ("--listen", address, "--data-dir", str(data), "--metrics-listen", f"127.0.0.1:{metrics_port}")
    # What each shipper got acknowledged, by series: timestamp -> value.
    acked: dict[tuple[str, str], dict[int, float]] = {}
    submitted = dict.fromkeys(NODES, 0)
    server = ServerProcess(*args)
    earlier_log: list[str] = []  # of the server stopped while the disk was full

    def record(node: str):
        def acknowledged(batch: ingest_pb2.Batch) -> None:
            for series in batch.series:
                samples = acked.setdefault((node, series.key.labels["series"]), {})
                samples.update(zip(series.timestamps_ms, series.values, strict=True))
        return acknowledged

    async def produce(shipper: Shipper, node: str, stop: asyncio.Event) -> None:
        # A new series every 4th batch, so that new series are also created while the
        # disk is full; values unique per series, so one stored under another shows.
        while not stop.is_set():
            index = submitted[node]
            submitted[node] += 1
            builder = BatchBuilder()
            for name in ("steady", f"s{index // 4}"):
                offset = 0 if name == "steady" else 1_000_000 * (1 + index // 4)
                builder.add_points("full_disk_probe", {"series": name},
                                   [BASE_MS + index * 100 + k for k in range(20)],
                                   [offset + index + k / 100 for k in range(20)])
            shipper.submit(builder.build())
            await asyncio.sleep(0.01)

    def store_state() -> tuple[str, str]:
        with InfracastClient(address, timeout_s=30) as client:
            return client.status().components["store"]

    def health(service: str) -> str:
        with InfracastClient(address, timeout_s=30) as client:
            return client.health(service)

    async def scenario() -> None:
        nonlocal server
        shippers = []
        for node in NODES:
            shipper = Shipper(address, ingest_pb2.Hello(node=node, agent_id=node), max_in_flight=4,
                              max_buffered_batches=100_000,
                              backoff=Backoff(initial=0.05, maximum=0.5, rng=random.Random(3)))
            shipper.on_acked = record(node)
            shippers.append(shipper)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(s.run()) for s in shippers]
        tasks += [asyncio.create_task(produce(s, n, stop)) for s, n in zip(shippers, NODES, strict=True)]

        # The disk fills: the store says so, ingest is refused with a retryable status.
        await asyncio.to_thread(server.wait_for_log, FAILING, 120)
        _, detail = await asyncio.to_thread(
            wait_until, lambda: (s := store_state())[0] == "degraded" and s, 30, 0.1, "store degraded")
        assert "full" in detail and "UNAVAILABLE" in detail
        assert await asyncio.to_thread(health, "infracast.v1.IngestService") == "NOT_SERVING"
        assert await asyncio.to_thread(health, "infracast.v1.ForecastService") == "SERVING"
        assert await asyncio.to_thread(metric, metrics_port, "infracast_store_failing") == 1
        refused = await asyncio.to_thread(push_once, address, "probe")
        assert refused is not None and refused.code() == grpc.StatusCode.UNAVAILABLE, refused
        hint = retry_hint_s(refused)
        assert hint is not None and 0.5 <= hint <= 5.0
        # Agents keep resending while it is full: several failed commits, one log line.
        with InfracastClient(address, timeout_s=30) as client:
            await asyncio.to_thread(wait_until, lambda: client.status().counts["store_failed_commits"] >= 5,
                                    60, 0.2, "several failed commits")
        # A restart while it is full: the stop keeps everything (the WAL cannot be
        # checkpointed into the database), and the server starts again, degraded.
        assert await asyncio.to_thread(server.stop) == 0
        assert any("not checkpointed on close" in line for line in server.log)
        earlier_log.extend(server.log)
        server = ServerProcess(*args)
        await asyncio.to_thread(server.wait_ready)
        await asyncio.to_thread(server.wait_for_log, FAILING, 60)
        await asyncio.sleep(1.0)  # more new series arrive (and are refused) meanwhile

        # Space returns: ingest resumes by itself, and everything buffered is delivered.
        resize("64m")
        await asyncio.to_thread(server.wait_for_log, RECOVERED, 60)
        await asyncio.to_thread(wait_until, lambda: store_state()[0] == "ready", 30, 0.1, "store ready")
        assert await asyncio.to_thread(health, "infracast.v1.IngestService") == "SERVING"
        await asyncio.sleep(0.5)
        stop.set()
        for shipper in shippers:
            assert await shipper.flush(timeout=120)
            assert shipper.stats.batches_dropped == shipper.stats.batches_rejected == 0
            await shipper.close()
        await asyncio.gather(*tasks)

    try:
        server.wait_ready()
        asyncio.run(scenario())
        with InfracastClient(address, timeout_s=30) as client:
            failed_commits = client.status().counts["store_failed_commits"]
        assert push_once(address, "probe") is None
    finally:
        assert server.stop() == 0
    # One line per change of state, not one per failed commit (the first server stopped
    # while commits failed, the second saw them work again).
    failing = [sum(bool(FAILING.search(line)) for line in log) for log in (earlier_log, server.log)]
    recovered = [sum(bool(RECOVERED.search(line)) for line in log) for log in (earlier_log, server.log)]
    assert failing[0] == recovered[0] + 1 and failing[1] == recovered[1] >= 1
    assert failing[1] < failed_commits
    assert not any("Traceback" in line for line in earlier_log + server.log)

    restarted = ServerProcess(*args)
    try:
        restarted.wait_ready()
        with InfracastClient(address, timeout_s=30) as client:
            listed, _ = client.list_series("full_disk_probe")
        replayed = {(s.series.labels["node"], s.series.labels["series"]): s for s in listed}
    finally:
        assert restarted.stop() == 0
    stored = stored_rows(data / "samples.sqlite")
    stored.pop(("probe", "once"))
    assert sum(len(samples) for samples in acked.values()) == 20 * 2 * sum(submitted.values())
    assert stored.keys() == acked.keys()
    for series, samples in acked.items():
        # Every acknowledged sample, under its own series, once; nothing else there.
        assert stored[series] == pytest.approx(samples), series
        assert replayed[series].sample_count == len(samples), series
        assert replayed[series].last_value == pytest.approx(samples[max(samples)]), series
