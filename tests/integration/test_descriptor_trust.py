"""Who may say what a metric means: a real server with real tokens. A node-bound token (one
agent's credential) cannot redefine a metric fleet-wide nor fill the registry; a token not
bound to a node may redeclare. Refusals are logged, counted in Status and /metrics, and
leave the rest of the message (and its samples) accepted."""

from __future__ import annotations

import logging
import re
import time
import urllib.request

import grpc
import pytest

from infracast.clients.client import InfracastClient
from infracast.clients.testing import running_server
from infracast.server.config import ServerConfig
from infracast.v1 import ingest_pb2, ingest_pb2_grpc, series_pb2

FLEET = "fleet-ingest-token-0123456789"
N7 = "node-n7-token-0123456789"
N8 = "node-n8-token-0123456789"
QUERY = "query-token-0123456789"
GAUGE, COUNTER = series_pb2.METRIC_TYPE_GAUGE, series_pb2.METRIC_TYPE_COUNTER


def push(address: str, token: str, node: str, described: dict[str, tuple[int, str]]) -> ingest_pb2.Ack:
    """A hello describing `described` (metric: (type, unit)) and a batch with one sample of each."""
    now = int(time.time() * 1000)
    hello = ingest_pb2.Hello(node=node, agent_id=f"agent-{node}", metrics=[
        series_pb2.MetricDescriptor(metric=metric, type=kind, unit=unit, help=f"{metric} from {node}")
        for metric, (kind, unit) in described.items()])
    batch = ingest_pb2.Batch(sequence=1, series=[
        series_pb2.SeriesSamples(key=series_pb2.SeriesKey(metric=metric), timestamps_ms=[now], values=[1.0])
        for metric in described])
    requests = [ingest_pb2.PushRequest(hello=hello), ingest_pb2.PushRequest(batch=batch)]
    with grpc.insecure_channel(address) as channel:
        (response,) = ingest_pb2_grpc.IngestServiceStub(channel).Push(
            iter(requests), timeout=30, metadata=(("authorization", f"Bearer {token}"),))
    return response.ack


def meaning(address: str, metric: str) -> tuple[str, str]:
    """(type, unit) as ListSeries gives them for the metric's series ("" where undescribed)."""
    with InfracastClient(address, token=QUERY, timeout_s=30) as client:
        series, _ = client.list_series(metric)
    return series[0].type, series[0].unit


def refusals(server) -> dict[str, float]:
    with InfracastClient(server.address, token=QUERY, timeout_s=30) as client:
        counts = client.status().counts
    metrics_url = f"http://127.0.0.1:{server.app.metrics_port}/metrics"
    text = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
    exported = {reason: float(n) for reason, n in re.findall(
        r'^infracast_metadata_refused_descriptors_total\{reason="(\w+)"\} ([0-9.e+]+)$', text, re.MULTILINE)}
    in_status = {name.removeprefix("descriptors_refused_"): n for name, n in counts.items()
                 if name.startswith("descriptors_refused_")}
    assert exported == in_status, (exported, in_status)
    return in_status


@pytest.fixture
def config(tmp_path) -> ServerConfig:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{FLEET} ingest\n{N7} ingest n7\n{N8} ingest n8\n{QUERY} query\n")
    return ServerConfig(listen="127.0.0.1:0", grace_period_s=0.5, rate_limit=0.0, tokens_file=tokens,
                        data_dir=tmp_path / "data", metrics_listen="127.0.0.1:0", max_metrics_per_node=3)


def test_a_node_bound_token_cannot_redefine_a_metric_and_a_fleet_wide_one_can(config, caplog):
    with running_server(config) as server:
        push(server.address, FLEET, "n1", {"node_vmstat_pgfault": (COUNTER, ""),
                                           "node_memory_MemFree_bytes": (GAUGE, "bytes")})
        with caplog.at_level(logging.WARNING, logger="infracast.server.metadata.registry"):
            ack = push(server.address, N7, "n7", {"node_vmstat_pgfault": (GAUGE, ""),
                                                  "node_memory_MemFree_bytes": (GAUGE, "ratio"),
                                                  "n7_new_metric": (GAUGE, "seconds")})
        # The rest of the message stands: its samples and its new metric.
        assert ack.samples_stored == 3
        assert meaning(server.address, "n7_new_metric") == ("gauge", "seconds")
        assert meaning(server.address, "node_vmstat_pgfault") == ("counter", "")
        assert meaning(server.address, "node_memory_MemFree_bytes") == ("gauge", "bytes")
        assert ("metric node_vmstat_pgfault is declared a counter; agent agent-n7 (bound to node n7) "
                "declared it a gauge: kept as a counter") in caplog.text
        assert ("metric node_memory_MemFree_bytes is declared in bytes; agent agent-n7 (bound to node "
                "n7) declared it in ratio") in caplog.text
        assert refusals(server) == {"type_conflict": 1, "unit_conflict": 1, "node_quota": 0}

        # A fleet-wide token may redeclare (the last declaration wins).
        push(server.address, FLEET, "n1", {"node_vmstat_pgfault": (GAUGE, "")})
        assert meaning(server.address, "node_vmstat_pgfault") == ("gauge", "")
        assert refusals(server)["type_conflict"] == 1


def test_a_node_bound_token_introduces_names_up_to_its_quota_even_across_restarts(config, caplog):
    with running_server(config) as server:
        with caplog.at_level(logging.WARNING, logger="infracast.server.metadata.registry"):
            ack = push(server.address, N7, "n7", {f"n7_metric_{i}": (GAUGE, "") for i in range(5)})
        assert ack.samples_stored == 5  # every sample, described or not
        described = [meaning(server.address, f"n7_metric_{i}")[0] for i in range(5)]
        assert described == ["gauge", "gauge", "gauge", "", ""]
        assert ("agent agent-n7 (bound to node n7) may introduce at most 3 metric names "
                "(max_metrics_per_node): 2 more left undescribed, e.g. n7_metric_3") in caplog.text
        assert refusals(server)["node_quota"] == 2
        # The quota is per node: another node's agent still introduces its own names,
        # and a fleet-wide token is held only to the registry's total.
        push(server.address, N8, "n8", {"n8_metric": (COUNTER, "")})
        push(server.address, FLEET, "n1", {"n7_metric_3": (COUNTER, "")})
        assert meaning(server.address, "n8_metric")[0] == "counter"
        assert meaning(server.address, "n7_metric_3")[0] == "counter"

    with running_server(config) as server:  # what n7 introduced is counted from the data directory
        push(server.address, N7, "n7", {"n7_metric_4": (GAUGE, "")})
        assert meaning(server.address, "n7_metric_4")[0] == ""
        assert refusals(server)["node_quota"] == 1
