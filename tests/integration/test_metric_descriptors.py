"""Metric descriptors end to end: a real agent's descriptors reach the real server, survive
kill -9 of it, show in ListSeries (the client and grpcurl), follow the agent across
reconnects, and make a counter without the _total suffix answer with rates."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sqlite3
import subprocess
import time

import grpc
import numpy as np
import pytest

from infracast.agent.backoff import Backoff
from infracast.agent.batches import BatchBuilder
from infracast.agent.shipper import Shipper
from infracast.clients.client import InfracastClient
from infracast.clients.testing import running_server
from infracast.server.config import ServerConfig
from infracast.v1 import ingest_pb2, ingest_pb2_grpc, series_pb2
from tests.conftest import ServerProcess, executable, free_port, wait_until
from tests.integration.feed import feed_series
from tests.integration.test_grpcurl import grpcurl

pytestmark = pytest.mark.slow

PGFAULT = 'node_vmstat_pgfault{node="meaning-node"}'


def listed(address: str, selector: str):
    with InfracastClient(address, timeout_s=30) as client:
        series, _ = client.list_series(selector)
    return series


def test_an_agents_descriptors_are_stored_durably_and_listed(tmp_path):
    address = f"127.0.0.1:{free_port()}"
    args = ("--listen", address, "--data-dir", str(tmp_path / "data"))
    server = ServerProcess(*args)
    agent = None
    try:
        server.wait_ready()
        agent = subprocess.Popen([executable("infracast-agent"), "--server", address,
                                  "--node", "meaning-node", "--interval", "200ms"],
                                 stderr=subprocess.PIPE, text=True)
        (pgfault,) = wait_until(lambda: listed(address, PGFAULT), 60, 0.2, "the agent's series")
        # node_exporter calls it untyped; it only grows, so the agent declares it a counter.
        assert (pgfault.type, pgfault.unit, pgfault.help) == (
            "counter", "", "/proc/vmstat information field pgfault.")
        (memory,) = listed(address, 'node_memory_MemTotal_bytes{node="meaning-node"}')
        assert (memory.type, memory.unit) == ("gauge", "bytes")
        every = listed(address, '{node="meaning-node"}')
        assert len(every) > 100 and all(s.type in ("gauge", "counter") for s in every), \
            [str(s.series) for s in every if not s.type]

        answer = grpcurl(address, "infracast.v1.ForecastService/ListSeries", data={"selector": PGFAULT})
        assert answer.returncode == 0, answer.stderr
        (info,) = json.loads(answer.stdout)["series"]
        assert info["descriptor"] == {"metric": "node_vmstat_pgfault", "type": "METRIC_TYPE_COUNTER",
                                      "help": "/proc/vmstat information field pgfault."}

        agent.send_signal(signal.SIGINT)
        assert agent.wait(30) == 0
        assert agent.stderr is not None
        agent_log = agent.stderr.read()
        assert "no descriptor for metric" not in agent_log, agent_log
        server.process.send_signal(signal.SIGKILL)
        server.stop()
        # No agent connects again: what is listed now came back from the data directory.
        server = ServerProcess(*args)
        server.wait_ready()
        (pgfault,) = listed(address, PGFAULT)
        assert (pgfault.type, pgfault.help) == ("counter", "/proc/vmstat information field pgfault.")
        assert any("metric descriptors loaded" in line for line in server.log)
        replayed = {s.series.metric for s in listed(address, '{node="meaning-node"}')}
        with InfracastClient(address, timeout_s=30) as client:
            assert client.status().counts["metrics_described"] == len(replayed)
    finally:
        if agent is not None:
            if agent.poll() is None:
                agent.kill()
                agent.wait()
            if agent.stderr is not None:
                agent.stderr.close()
        server.stop()


def descriptor(metric: str, kind: int, unit: str = "", text: str = "") -> series_pb2.MetricDescriptor:
    return series_pb2.MetricDescriptor(metric=metric, type=kind, unit=unit, help=text)


def test_the_shipper_sends_descriptors_in_every_hello_and_new_ones_with_a_batch():
    port = free_port()
    config = ServerConfig(listen=f"127.0.0.1:{port}", grace_period_s=0.5, rate_limit=0.0)
    now_ms = int(time.time() * 1000)

    async def ship(shipper: Shipper, metric: str, at_ms: int) -> None:
        builder = BatchBuilder()
        builder.add_points(metric, {}, [at_ms], [1.0])
        shipper.submit(builder.build())
        assert await shipper.flush(30)

    async def scenario():
        shipper = Shipper(f"127.0.0.1:{port}", ingest_pb2.Hello(node="shipper-node", agent_id="s"),
                          backoff=Backoff(initial=0.05, maximum=0.2, rng=random.Random(1)))
        shipper.describe([descriptor("first_metric", series_pb2.METRIC_TYPE_GAUGE, "bytes", "One.")])
        running = asyncio.create_task(shipper.run())
        with running_server(config) as first:
            await ship(shipper, "first_metric", now_ms)
            # Described after the stream opened: it rides with the next batch.
            shipper.describe([descriptor("second_events", series_pb2.METRIC_TYPE_COUNTER, "", "Two.")])
            await ship(shipper, "second_events", now_ms)
            held = first.app.metadata.snapshot()
            assert held["first_metric"].unit == "bytes" and held["second_events"].type == "counter"
        # A new server on the same address, knowing nothing: the reconnect's hello tells it both,
        # before any batch that carries descriptors.
        with running_server(config) as second:
            await ship(shipper, "third_metric", now_ms + 1)
            held = second.app.metadata.snapshot()
            assert set(held) == {"first_metric", "second_events"}
            assert held["second_events"].help == "Two."
        await shipper.close()
        await running

    asyncio.run(scenario())


def test_a_counter_declared_so_gets_rates_without_the_total_suffix(server):
    times = int(time.time() * 1000) - 60_000 * np.arange(120)[::-1]
    counts = 600.0 * np.arange(120)  # 10 events a second, sampled every minute
    hello = ingest_pb2.Hello(node="rates-node", agent_id="rates", metrics=[
        descriptor("app_requests", series_pb2.METRIC_TYPE_COUNTER, "", "Requests served."),
        descriptor("app_level_total", series_pb2.METRIC_TYPE_GAUGE, "", "A gauge despite its name.")])
    feed_series(server.address, "rates-node", "app_requests", {}, times, counts, hello=hello)
    feed_series(server.address, "rates-node", "app_level_total", {}, times, counts, hello=hello)
    feed_series(server.address, "rates-node", "app_undeclared", {}, times, counts)
    with InfracastClient(server.address, timeout_s=60) as client:
        declared = client.forecast('app_requests{node="rates-node"}', "30m")
        assert declared.model.rate_of_counter
        assert declared.last_value == pytest.approx(10.0)
        assert np.allclose(declared.mean, 10.0, rtol=0.05)
        # The same numbers with no descriptor: the suffix rule, so a gauge that keeps rising.
        undeclared = client.forecast('app_undeclared{node="rates-node"}', "30m")
        assert not undeclared.model.rate_of_counter and undeclared.last_value == counts[-1]
        gauge = client.forecast('app_level_total{node="rates-node"}', "30m")
        assert not gauge.model.rate_of_counter and gauge.last_value == counts[-1]
        # Declared anew as a gauge (the same samples resent, so the cached answer's data is
        # unchanged): the last declaration wins at once, not after the cache expires.
        redeclared = ingest_pb2.Hello(node="rates-node", agent_id="rates", metrics=[
            descriptor("app_requests", series_pb2.METRIC_TYPE_GAUGE, "", "Requests served, as a gauge.")])
        feed_series(server.address, "rates-node", "app_requests", {}, times, counts, hello=redeclared)
        as_gauge = client.forecast('app_requests{node="rates-node"}', "30m")
        assert not as_gauge.model.rate_of_counter and as_gauge.last_value == counts[-1]


def push(address: str, *requests: ingest_pb2.PushRequest) -> list[ingest_pb2.PushResponse]:
    with grpc.insecure_channel(address) as channel:
        return list(ingest_pb2_grpc.IngestServiceStub(channel).Push(iter(requests), timeout=30))


def test_bad_descriptors_are_refused_whole_and_the_server_keeps_serving(server):
    now_ms = int(time.time() * 1000)
    bad = descriptor("bad_unit_metric", series_pb2.METRIC_TYPE_GAUGE, "Bytes/s")
    with pytest.raises(grpc.RpcError) as refused:
        push(server.address, ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="bad-node", metrics=[bad])))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details() == ("hello, metric descriptor 0 (bad_unit_metric): unit 'Bytes/s' must be "
                                       "lower case letters, digits and _ (a base unit such as bytes, seconds "
                                       "or ratio), or empty")
    batch = ingest_pb2.Batch(sequence=1, series=[series_pb2.SeriesSamples(
        key=series_pb2.SeriesKey(metric="refused_with_its_batch"), timestamps_ms=[now_ms], values=[1.0])],
        metrics=[descriptor("refused_with_its_batch", 9)])
    with pytest.raises(grpc.RpcError) as refused:
        push(server.address, ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="bad-node")),
             ingest_pb2.PushRequest(batch=batch))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "batch 1, metric descriptor 0 (refused_with_its_batch): unknown type 9" in refused.value.details()
    # Nothing of either was kept: no descriptor, no sample.
    assert server.app.metadata.get("bad_unit_metric") is None
    assert server.app.metadata.get("refused_with_its_batch") is None
    assert listed(server.address, "refused_with_its_batch") == []
    # A good batch on the same server still goes through, its descriptor with it.
    batch.metrics[0].type = series_pb2.METRIC_TYPE_COUNTER
    (response,) = push(server.address, ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="bad-node")),
                       ingest_pb2.PushRequest(batch=batch))
    assert response.ack.samples_stored == 1
    (stored,) = listed(server.address, "refused_with_its_batch")
    assert stored.type == "counter"


def test_a_batch_whose_descriptors_cannot_be_committed_stores_none_of_its_samples(tmp_path):
    """The refusal says nothing of the batch was stored: its samples must not be in memory
    (answering queries, lost at a restart) and the agent's resend must store them."""
    config = ServerConfig(listen="127.0.0.1:0", grace_period_s=0.5, rate_limit=0.0, data_dir=tmp_path)
    now_ms = int(time.time() * 1000)
    batch = ingest_pb2.Batch(sequence=1, series=[series_pb2.SeriesSamples(
        key=series_pb2.SeriesKey(metric="described_in_its_batch"), timestamps_ms=[now_ms], values=[1.0])],
        metrics=[descriptor("described_in_its_batch", series_pb2.METRIC_TYPE_COUNTER, "", "Events.")])
    hello = ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="locked-node"))
    with running_server(config) as running:
        # Another process writing the metadata file (a backup, say) holds its write lock.
        holder = sqlite3.connect(tmp_path / "metadata.sqlite", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(grpc.RpcError) as refused:
                push(running.address, hello, ingest_pb2.PushRequest(batch=batch))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "nothing of the batch 1 was stored" in refused.value.details()
        assert listed(running.address, "described_in_its_batch") == []
        (response,) = push(running.address, hello, ingest_pb2.PushRequest(batch=batch))
        assert (response.ack.samples_stored, response.ack.samples_skipped) == (1, 0)
        (stored,) = listed(running.address, "described_in_its_batch")
        assert stored.type == "counter"


def test_descriptors_follow_the_servers_metric_name_limit():
    """An operator who allows longer metric names (max_metric_name_length) gets their
    descriptors too: refusing them would refuse the agent's hello, so it never connects."""
    config = ServerConfig(listen="127.0.0.1:0", grace_period_s=0.5, rate_limit=0.0,
                          max_metric_name_length=400)
    long_name = "exporter_" + "x" * 300
    now_ms = int(time.time() * 1000)
    hello = ingest_pb2.Hello(node="long-names", metrics=[
        descriptor(long_name, series_pb2.METRIC_TYPE_COUNTER, "", "In the hello.")])
    batch = ingest_pb2.Batch(sequence=1, series=[series_pb2.SeriesSamples(
        key=series_pb2.SeriesKey(metric=long_name + "_2"), timestamps_ms=[now_ms], values=[1.0])],
        metrics=[descriptor(long_name + "_2", series_pb2.METRIC_TYPE_GAUGE, "", "In a batch.")])
    with running_server(config) as running:
        (response,) = push(running.address, ingest_pb2.PushRequest(hello=hello),
                           ingest_pb2.PushRequest(batch=batch))
        assert response.ack.samples_stored == 1
        assert running.app.metadata.is_counter(long_name)
        assert running.app.metadata.get(long_name + "_2") is not None
