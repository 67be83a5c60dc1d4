"""A quiet agent stream costs its connection, not its last batch.

A thousand agents that each send a batch every ten seconds spend almost all their time
waiting; whatever the server keeps per waiting stream is multiplied by the fleet. grpc's
own request iterator keeps the last message alive until the next one arrives (72 MiB at
1,000 streams of 100 series in `bench/load.py`), so the server reads with
`context.read()`; this test fails if anything holds a stored batch again. The server
reads Push requests as bytes (services/wire_batch.py), kept as PushRequestBytes, which
gc can see; decoded PushRequest messages are looked for too (hellos, the fallback path).
"""

import gc
import queue
import time

import grpc

from infracast.server.services.ingest import PushRequestBytes
from infracast.v1 import ingest_pb2, ingest_pb2_grpc, series_pb2


def _server_held_batches(ours: list[ingest_pb2.PushRequest]) -> list[ingest_pb2.PushRequest]:
    gc.collect()
    sent = {id(message) for message in ours}
    return [o for o in gc.get_objects()
            if type(o) is ingest_pb2.PushRequest and id(o) not in sent and o.WhichOneof("message") == "batch"]


def test_a_waiting_stream_holds_no_message_after_its_ack(server):
    now_ms = int(time.time() * 1000)
    ours = [ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="quiet", agent_id="quiet"))]
    ours += [ingest_pb2.PushRequest(batch=ingest_pb2.Batch(sequence=sequence, series=[
        series_pb2.SeriesSamples(key=series_pb2.SeriesKey(metric="node_load1", labels={"i": str(i)}),
                                 timestamps_ms=[now_ms - 1000 * (3 - sequence)], values=[float(i)])
        for i in range(100)])) for sequence in (1, 2)]
    outgoing: queue.Queue = queue.Queue()
    for message in ours:
        outgoing.put(message)

    def requests():
        while (message := outgoing.get()) is not None:
            yield message

    with grpc.insecure_channel(server.address) as channel:
        responses = ingest_pb2_grpc.IngestServiceStub(channel).Push(requests(), timeout=30)
        acks = [next(responses).ack for _ in range(2)]
        assert [ack.highest_sequence for ack in acks] == [1, 2]
        assert all(ack.samples_stored == 100 for ack in acks)
        # The stream is open and idle now, as an agent's is between two samples.
        assert _server_held_batches(ours) == []
        assert [len(o) for o in gc.get_objects() if type(o) is PushRequestBytes] == []
        assert not [o for o in gc.get_objects() if type(o) is ingest_pb2.Hello and o.node == "quiet"]
        outgoing.put(None)
        assert list(responses) == []
