"""While the store cannot commit, the server says so and ingest answers a retryable
status; when commits work again, so does everything else. In-process server, real
gRPC; the database is made full with SQLite's max_page_count (the same SQLITE_FULL
a full disk gives), so this runs where mounting a small file system is not allowed
(test_full_disk.py does it on a real tmpfs)."""

import time

import grpc
import pytest

from infracast.agent.shipper import retry_hint_s
from infracast.clients.client import InfracastClient
from infracast.clients.testing import running_server
from infracast.server.config import ServerConfig
from infracast.server.store.sample_log import read_committed
from tests.conftest import fill_database, wait_until
from tests.integration.feed import feed_series


def test_commits_failing_make_the_store_degraded_and_ingest_retryable(tmp_path):
    config = ServerConfig(listen="127.0.0.1:0", grace_period_s=1.0, rate_limit=0.0, data_dir=tmp_path)
    times = [int(time.time() * 1000) - 3_600_000 + i for i in range(5000)]
    with running_server(config) as server, InfracastClient(server.address, timeout_s=30) as client:
        store = server.app.store
        feed_series(server.address, "n", "probe", {"series": "first"}, times[:1], [1.0])
        fill_database(store, full=True)  # the writer is idle: the ack above came after its commit
        with pytest.raises(grpc.RpcError) as refused:
            feed_series(server.address, "n", "probe", {"series": "big"}, times, [2.0] * len(times))
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "database or disk is full" in refused.value.details()
        assert 1.0 <= retry_hint_s(refused.value) <= 3.0
        state, detail = client.status().components["store"]
        assert state == "degraded" and "database or disk is full" in detail
        assert client.status().counts["store_failed_commits"] == 1
        # Readiness is flipped on the event loop, right after the writer saw the failure.
        wait_until(lambda: client.health("infracast.v1.IngestService") == "NOT_SERVING", 10, 0.02)
        assert client.health("infracast.v1.ForecastService") == "SERVING"
        assert client.health("") == "SERVING"

        fill_database(store, full=False)
        feed_series(server.address, "n", "probe", {"series": "big"}, times, [2.0] * len(times))
        assert client.status().components["store"][0] == "ready"
        wait_until(lambda: client.health("infracast.v1.IngestService") == "SERVING", 10, 0.02)
        (big,), _ = client.list_series('probe{series="big"}')
        assert big.sample_count == len(times)


def test_a_batch_resent_after_a_failed_commit_is_acked_as_stored_by_that_resend(tmp_path):
    """Memory takes a batch before its commit; when the commit fails the agent resends it,
    and the ack for the resend must count what that resend made durable, not call it a
    duplicate of what memory took (and the log never kept)."""
    config = ServerConfig(listen="127.0.0.1:0", grace_period_s=1.0, rate_limit=0.0, data_dir=tmp_path)
    times = [int(time.time() * 1000) - 3_600_000 + i for i in range(5000)]
    big = ("n", "probe", {"series": "big"})
    with running_server(config) as server:
        before = feed_series(server.address, *big, times[:10], [1.0] * 10)  # durable already
        assert (before.samples_stored, before.samples_skipped) == (10, 0)
        fill_database(server.app.store, full=True)
        with pytest.raises(grpc.RpcError) as refused:
            feed_series(server.address, *big, times, [1.0] * len(times))
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        fill_database(server.app.store, full=False)

        resent = feed_series(server.address, *big, times, [1.0] * len(times))
        again = feed_series(server.address, *big, times, [1.0] * len(times))

    assert (resent.samples_stored, resent.samples_skipped) == (len(times) - 10, 10)
    assert (again.samples_stored, again.samples_skipped) == (0, len(times))
    (committed_times, _), = [samples for key, samples in read_committed(tmp_path / "samples.sqlite").items()
                             if key.label_map.get("series") == "big"]
    assert committed_times.tolist() == times
