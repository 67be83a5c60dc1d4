"""The durable log when SQLite cannot write: a full database, made real with SQLite's own
max_page_count (the same SQLITE_FULL a full disk gives, rollback included), so these run
without mounting anything. tests/integration/test_full_disk.py does it on a real tmpfs."""

import asyncio
import contextlib

import numpy as np
import pytest

from infracast.server.series import SeriesKey
from infracast.server.store.base import CommitFailed, SampleBatch, SeriesWrite
from infracast.server.store.embedded import EmbeddedStore
from infracast.server.store.memory import MemoryLimits
from tests.conftest import fill_database

MINUTE = 60_000
NOW = 1_000 * 60 * MINUTE


def write(key, timestamps, values):
    return [SeriesWrite(key, np.array(timestamps, dtype=np.int64), np.array(values, dtype=float))]


def batch(key, timestamps, values):
    return SampleBatch.of_writes(write(key, timestamps, values))


async def opened(path, limits=None):
    store = EmbeddedStore(path, limits)
    store.acquire()
    await store.open()
    return store


async def staged(store, writes):
    """As ingest appends: memory first (which numbers the series by slot), then the commit
    (which finds the log's ids by those slots)."""
    batch = SampleBatch.of_writes(writes)
    await store.commit(batch, store.append_to_memory(batch))


async def whole(store, writes):
    await store.append(writes)


@pytest.mark.parametrize("append", [whole, staged])
def test_a_series_whose_commit_failed_gets_its_own_id_when_it_is_written_again(tmp_path, append):
    a, b, c = (SeriesKey.of("probe", {"node": node}) for node in "abc")
    many = list(range(1000, 3000))  # too many rows for the pages left: the commit fails

    async def scenario():
        store = await opened(tmp_path)
        await append(store, write(a, [1000], [1.0]))
        fill_database(store, full=True)
        with pytest.raises(CommitFailed, match="database or disk is full"):
            await append(store, write(b, many, [2.0] * len(many)))
        fill_database(store, full=False)
        # A new series written first could take the id SQLite handed b in the failed commit.
        await append(store, write(c, [1000], [3.0]))
        await append(store, write(b, many, [2.0] * len(many)))  # the agent's resend
        await store.close()
        store = await opened(tmp_path)
        windows = {key.label_map["node"]: store.window(key) for key in (a, b, c)}
        await store.close()
        return windows

    windows = asyncio.run(scenario())
    assert windows["a"].values.tolist() == [1.0]
    assert windows["c"].timestamps_ms.tolist() == [1000] and windows["c"].values.tolist() == [3.0]
    assert windows["b"].timestamps_ms.tolist() == many and set(windows["b"].values) == {2.0}


def test_a_failing_compaction_leaves_the_writer_running(tmp_path):
    # 300 buckets of old samples of 30 series: their aggregates need pages the full
    # database lacks (more than the pages their batch frees once in chunks).
    limits = MemoryLimits(raw_window_ms=30 * MINUTE, downsampled_window_ms=48 * 60 * MINUTE)
    key = SeriesKey.of("probe", {"node": "a"})
    others = [SeriesKey.of("probe", {"node": f"other-{i}"}) for i in range(29)]
    old = [NOW - 30 * 60 * MINUTE + i * 5 * MINUTE for i in range(300)]

    async def scenario():
        store = await opened(tmp_path, limits)
        await store.append([*write(key, old, [1.0] * len(old)),
                            *(w for other in others for w in write(other, old, [1.0] * len(old)))])
        fill_database(store, full=True)
        store.log.compact_every_s = 0.0  # compact after every write from now on
        with contextlib.suppress(CommitFailed):  # the write may fit in a page it has
            await store.append(write(key, [NOW - MINUTE], [2.0]))
        # The compaction after that write failed; the next write is still answered.
        failed_compaction = await asyncio.wait_for(_wait_for(lambda: store.log.health.compaction_error), 10)
        fill_database(store, full=False)
        store.log.compact_every_s = 3600.0
        result = await asyncio.wait_for(store.append(write(key, [NOW], [3.0])), 10)
        # Commits work again, so compaction is retried at once rather than in an hour.
        await asyncio.wait_for(_wait_for(lambda: store.log.health.compaction_error is None), 10)
        await store.close()
        return failed_compaction, result

    failed_compaction, result = asyncio.run(scenario())
    assert "database or disk is full" in failed_compaction
    assert result.stored == 1


async def _wait_for(condition):
    while not condition():
        await asyncio.sleep(0.01)
    return condition()


# The writer thread dying is what this test is about.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_writes_are_answered_when_the_writer_is_gone(tmp_path):
    key = SeriesKey.of("probe", {"node": "a"})

    async def scenario():
        store = await opened(tmp_path)
        log = store.log

        def end_the_thread() -> None:  # whatever ends the writer, not an Exception
            raise SystemExit

        log.before_commit = end_the_thread
        with pytest.raises(CommitFailed, match="stopped"):
            await asyncio.wait_for(store.append(write(key, [1000], [1.0])), 10)
        with pytest.raises(CommitFailed, match="stopped"):
            await asyncio.wait_for(store.append(write(key, [2000], [2.0])), 10)
        await store.close()

    asyncio.run(scenario())


def test_a_write_after_close_is_refused_not_left_waiting(tmp_path):
    async def scenario():
        store = await opened(tmp_path)
        await store.close()
        with pytest.raises(CommitFailed, match="closed"):
            await asyncio.wait_for(store.log.write(batch(SeriesKey.of("probe", {}), [1000], [1.0])), 10)

    asyncio.run(scenario())
