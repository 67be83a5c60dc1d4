import asyncio

import numpy as np
import pytest

from infracast.server.series import SeriesKey
from infracast.server.store.base import SeriesWrite
from infracast.server.store.embedded import EmbeddedStore
from infracast.server.store.memory import MemoryLimits
from infracast.server.store.sample_log import DataDirectoryLocked, read_committed

KEY = SeriesKey.of("node_load1", {"node": "a"})
MINUTE = 60_000


def write(timestamps, values, key=KEY):
    return [SeriesWrite(key, np.array(timestamps, dtype=np.int64), np.array(values, dtype=float))]


async def opened(path, limits=None):
    store = EmbeddedStore(path, limits)
    store.acquire()
    await store.open()
    return store


def test_samples_survive_a_restart_and_resends_store_once(tmp_path):
    async def scenario():
        store = await opened(tmp_path)
        first = await store.append(write([1000, 2000, 3000], [1.0, 2.0, 3.0]))
        await store.close()
        store = await opened(tmp_path)
        replayed = store.replayed_samples
        again = await store.append(write([2000, 3000, 4000], [2.0, 3.0, 4.0]))
        window = store.window(KEY)
        await store.close()
        return first, replayed, again, window

    first, replayed, again, window = asyncio.run(scenario())
    assert (first.stored, replayed) == (3, 3)
    assert (again.stored, again.skipped) == (1, 2)
    assert window.timestamps_ms.tolist() == [1000, 2000, 3000, 4000]


def test_a_second_server_cannot_open_the_same_directory(tmp_path):
    async def scenario():
        store = await opened(tmp_path)
        try:
            second = EmbeddedStore(tmp_path)
            with pytest.raises(DataDirectoryLocked, match="in use by another infracast-server"):
                second.acquire()
        finally:
            await store.close()
        third = await opened(tmp_path)  # free again once the first one closed
        await third.close()

    asyncio.run(scenario())


def test_compaction_folds_old_samples_and_replay_matches_memory(tmp_path):
    limits = MemoryLimits(raw_window_ms=30 * MINUTE, downsampled_window_ms=24 * 60 * MINUTE)
    now = 1_000 * 60 * MINUTE
    times = [now - 120 * MINUTE + i * MINUTE for i in range(121)]

    async def scenario():
        store = await opened(tmp_path, limits)
        await store.append(write(times, [float(i) for i in range(121)]))
        before = store.window(KEY)
        await asyncio.to_thread(store.log.compact, now)
        # A late sample from a compacted bucket is not counted twice.
        await store.append(write([times[3] + 1], [999.0]))
        await asyncio.to_thread(store.log.compact, now)  # the late sample's batch into chunks too
        raw_on_disk = read_committed(store.log.path)[KEY][0]
        aggregated = store.log._connection.execute("SELECT SUM(count) FROM aggregates").fetchone()[0]
        await store.close()
        store = await opened(tmp_path, limits)
        after = store.window(KEY)
        summary = store.summary(KEY)
        await store.close()
        return before, after, raw_on_disk, aggregated, summary

    before, after, raw_on_disk, aggregated, summary = asyncio.run(scenario())
    # only the last raw window stays raw in the log; the 90 minutes before it are aggregates
    assert raw_on_disk.tolist() == times[-31:] and aggregated == 90
    np.testing.assert_allclose(after.values, before.values)
    np.testing.assert_array_equal(after.timestamps_ms, before.timestamps_ms)
    assert summary.sample_count == 121
