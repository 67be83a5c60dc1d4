"""Send known samples to a server through the real Push stream (as an agent would)."""

from __future__ import annotations

import grpc

from infracast.v1 import ingest_pb2, ingest_pb2_grpc, series_pb2


def feed_series(address: str, node: str, metric: str, labels: dict[str, str], timestamps_ms,
                values, hello: ingest_pb2.Hello | None = None) -> ingest_pb2.Ack:
    batch = ingest_pb2.Batch(sequence=1, series=[series_pb2.SeriesSamples(
        key=series_pb2.SeriesKey(metric=metric, labels=labels),
        timestamps_ms=[int(t) for t in timestamps_ms], values=[float(v) for v in values])])
    hello = hello or ingest_pb2.Hello(node=node, agent_id=f"feed-{node}")
    requests = [ingest_pb2.PushRequest(hello=hello),
                ingest_pb2.PushRequest(batch=batch)]
    with grpc.insecure_channel(address) as channel:
        responses = ingest_pb2_grpc.IngestServiceStub(channel).Push(iter(requests), timeout=30)
        (response,) = list(responses)
    return response.ack
