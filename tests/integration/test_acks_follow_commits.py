"""An acknowledgement means committed: checked against the commit itself, not against
kill -9 (SIGKILL does not discard what SQLite already holds, so a store that acks a
moment before committing passes kill tests). Caught by a mutation run in issue 13."""

import asyncio
import threading
import time
from pathlib import Path

import grpc
import numpy as np

from infracast.clients.testing import running_server
from infracast.server.config import ServerConfig
from infracast.server.series import SeriesKey
from infracast.server.store.base import SeriesWrite
from infracast.server.store.embedded import EmbeddedStore
from infracast.server.store.sample_log import read_committed
from infracast.v1 import ingest_pb2, ingest_pb2_grpc, series_pb2

BASE_MS = int(time.time() * 1000) - 3_600_000


def committed_rows(database: Path) -> int:
    """Samples another connection sees: only what is committed."""
    return sum(len(times) for times, _ in read_committed(database).values())


def test_no_ack_comes_back_until_the_commit_does(tmp_path):
    config = ServerConfig(listen="127.0.0.1:0", grace_period_s=1.0, rate_limit=0.0, data_dir=tmp_path)
    with running_server(config) as server:
        log = server.app.store.log
        at_commit, release = threading.Event(), threading.Event()

        def barrier() -> None:  # in the writer thread, the transaction written, not committed
            at_commit.set()
            assert release.wait(30), "the test never released the commit"

        log.before_commit = barrier
        batch = ingest_pb2.Batch(sequence=1, series=[series_pb2.SeriesSamples(
            key=series_pb2.SeriesKey(metric="ack_probe"),
            timestamps_ms=[BASE_MS + i for i in range(10)], values=[1.0] * 10)])
        acks: list[ingest_pb2.Ack] = []
        acked = threading.Event()
        finished = threading.Event()

        def push() -> None:
            requests = [ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="n", agent_id="n")),
                        ingest_pb2.PushRequest(batch=batch)]
            with grpc.insecure_channel(server.address) as channel:
                for response in ingest_pb2_grpc.IngestServiceStub(channel).Push(iter(requests), timeout=60):
                    acks.append(response.ack)
                    acked.set()
            finished.set()

        pusher = threading.Thread(target=push, daemon=True)
        pusher.start()
        try:
            assert at_commit.wait(30), "the batch never reached the commit"
            # The writer holds the commit: no acknowledgement may come back meanwhile.
            assert not acked.wait(1.0), "acknowledged before the commit"
            assert committed_rows(log.path) == 0
        finally:
            release.set()
        assert acked.wait(30) and finished.wait(30)
        pusher.join(5)
        assert [ack.highest_sequence for ack in acks] == [1]
        assert committed_rows(log.path) == 10


def test_rows_are_committed_when_append_returns(tmp_path):
    key = SeriesKey.of("ack_probe", {"node": "n"})

    async def scenario() -> list[tuple[int, int]]:
        store = EmbeddedStore(tmp_path)
        store.acquire()
        await store.open()
        # A commit that takes 5 ms: an append that returned before it would be seen.
        store.log.before_commit = lambda: time.sleep(0.005)
        seen = []
        try:
            for index in range(20):
                timestamps = np.arange(BASE_MS + index * 10, BASE_MS + index * 10 + 10, dtype=np.int64)
                await store.append([SeriesWrite(key, timestamps, np.ones(10))])
                # Right after the append returned, before any close: from a second connection.
                seen.append((committed_rows(store.log.path), (index + 1) * 10))
        finally:
            await store.close()
        return seen

    for committed, appended in asyncio.run(scenario()):
        assert committed == appended

