"""The durable log's format: a batch row per group commit, chunks after compaction, and the
same samples read back (first committed wins) whatever the step in between."""

import asyncio
import json
import sqlite3

import numpy as np
import pytest

from infracast.server.series import SeriesKey
from infracast.server.store import sample_log
from infracast.server.store.base import SampleBatch, SeriesWrite
from infracast.server.store.sample_log import CHUNK_SAMPLES, SampleLog, read_committed

MINUTE = 60_000
NOW = 1_000 * 60 * MINUTE
KEYS = [SeriesKey.of("node_load1", {"node": str(i)}) for i in range(3)]


def writes(key, times, values):
    return SampleBatch.of_writes(
        [SeriesWrite(key, np.asarray(times, dtype=np.int64), np.asarray(values, dtype=float))])


def opened(path, raw_window_ms=24 * 60 * MINUTE):
    log = SampleLog(path, raw_window_ms=raw_window_ms, retention_ms=14 * 24 * 60 * MINUTE)
    log.open()
    return log


def replayed(path, raw_window_ms=24 * 60 * MINUTE):
    log = opened(path, raw_window_ms)
    try:
        return {series.key: series for series in log.replay()}
    finally:
        log.close()


def count(log, table):
    return log._connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_a_group_commit_is_one_row_and_compaction_makes_chunks_of_each_series(tmp_path):
    times = NOW - 10_000 * np.arange(1000, dtype=np.int64)[::-1]
    rng = np.random.default_rng(1)
    expected = {key: np.round(rng.random(1000) * 100, 2) for key in KEYS}

    async def scenario():
        log = opened(tmp_path)
        log.start()
        for start in range(0, 1000, 100):  # ten commits of three series each
            part = slice(start, start + 100)
            await log.write(SampleBatch.of_writes(
                [SeriesWrite(key, times[part], expected[key][part]) for key in KEYS]))
        rows_before = count(log, "batches")
        await asyncio.to_thread(log.compact, NOW)
        return log, rows_before

    log, rows_before = asyncio.run(scenario())
    assert rows_before == 10 and log.samples_written == 3000
    assert count(log, "batches") == 0
    assert count(log, "chunks") == 3 * -(-1000 // CHUNK_SAMPLES)
    log.close()
    for key, series in replayed(tmp_path).items():
        np.testing.assert_array_equal(series.timestamps_ms, times)
        np.testing.assert_array_equal(series.values, expected[key])


def test_resent_and_late_samples_keep_the_first_committed_before_and_after_compaction(tmp_path):
    key = KEYS[0]

    async def scenario():
        log = opened(tmp_path)
        log.start()
        await log.write(writes(key, [NOW - 3000, NOW - 2000, NOW - 1000], [1.0, 2.0, 3.0]))
        await asyncio.to_thread(log.compact, NOW)  # those three are a chunk now
        await log.write(writes(key, [NOW - 2000, NOW], [20.0, 4.0]))  # a resend, one new
        before_compaction = read_committed(log.path)[key]
        await log.write(writes(key, [NOW, NOW - 2500, NOW + 1000], [40.0, 2.5, 5.0]))  # late ones
        await asyncio.to_thread(log.compact, NOW)
        after_compaction = read_committed(log.path)[key]
        log.close()
        return before_compaction, after_compaction

    before, after = asyncio.run(scenario())
    assert before[0].tolist() == [NOW - 3000, NOW - 2000, NOW - 1000, NOW]
    assert before[1].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert after[0].tolist() == [NOW - 3000, NOW - 2500, NOW - 2000, NOW - 1000, NOW, NOW + 1000]
    assert after[1].tolist() == [1.0, 2.5, 2.0, 3.0, 4.0, 5.0]
    replayed_series = replayed(tmp_path)[key]
    assert replayed_series.values.tolist() == after[1].tolist()


def test_a_late_sample_between_sealed_chunks_rewrites_them_in_order(tmp_path):
    key = KEYS[0]
    times = NOW - 20_000 * np.arange(3 * CHUNK_SAMPLES, dtype=np.int64)[::-1]

    async def scenario():
        log = opened(tmp_path)
        log.start()
        await log.write(writes(key, times, np.arange(len(times), dtype=float)))
        await asyncio.to_thread(log.compact, NOW)
        await log.write(writes(key, [times[5] + 10_000, times[-1] + 10], [-1.0, -2.0]))
        await asyncio.to_thread(log.compact, NOW)
        chunks = count(log, "chunks")
        log.close()
        return chunks

    chunks = asyncio.run(scenario())
    series = replayed(tmp_path)[key]
    assert len(series.timestamps_ms) == len(times) + 2 and (np.diff(series.timestamps_ms) > 0).all()
    assert series.values[6] == -1.0 and series.values[-1] == -2.0
    assert chunks == 4  # 3 * CHUNK_SAMPLES + 2 samples


def test_samples_out_of_the_raw_window_age_into_aggregates_once(tmp_path):
    key = KEYS[1]
    raw_window = 60 * MINUTE
    times = NOW - MINUTE * np.arange(600, dtype=np.int64)[::-1]  # ten hours, one a minute

    async def scenario():
        log = opened(tmp_path, raw_window)
        log.start()
        await log.write(writes(key, times, np.ones(len(times))))
        await asyncio.to_thread(log.compact, NOW)
        await asyncio.to_thread(log.compact, NOW)  # nothing more to do: counted once
        log.close()

    asyncio.run(scenario())
    series = replayed(tmp_path, raw_window)[key]
    assert series.timestamps_ms[0] == NOW - raw_window
    assert series.bucket_counts.sum() + len(series.timestamps_ms) == 600
    assert set(series.bucket_counts[1:].tolist()) == {5}
    assert series.bucket_maxima.max() == 1.0


def test_a_directory_of_the_row_per_sample_format_is_read_and_converted(tmp_path):
    connection = sqlite3.connect(tmp_path / "samples.sqlite")
    connection.executescript("""
        CREATE TABLE series (id INTEGER PRIMARY KEY, metric TEXT NOT NULL, labels TEXT NOT NULL,
                             UNIQUE (metric, labels));
        CREATE TABLE samples (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL,
                              PRIMARY KEY (series_id, ts)) WITHOUT ROWID;""")
    connection.execute("INSERT INTO series VALUES (1, 'node_load1', ?)", (json.dumps({"node": "0"}),))
    connection.executemany("INSERT INTO samples VALUES (1, ?, ?)", [(NOW + i, i / 10) for i in range(500)])
    connection.commit()
    connection.close()
    series = replayed(tmp_path)[KEYS[0]]
    assert series.timestamps_ms.tolist() == [NOW + i for i in range(500)]
    assert series.values.tolist() == [i / 10 for i in range(500)]
    assert read_committed(tmp_path / "samples.sqlite")[KEYS[0]][0].tolist() == series.timestamps_ms.tolist()


def test_compaction_in_slices_of_series_survives_a_failure_half_way(tmp_path, monkeypatch):
    monkeypatch.setattr(sample_log, "COMPACTION_SERIES", 3)
    keys = [SeriesKey.of("node_load1", {"node": str(i)}) for i in range(8)]
    times = NOW - 10_000 * np.arange(50, dtype=np.int64)[::-1]
    original = SampleLog._chunk_series
    calls = []

    def fail_the_second_slice(self, pending, series_ids):
        calls.append(series_ids)
        if len(calls) == 2:
            raise sqlite3.OperationalError("disk I/O error")
        original(self, pending, series_ids)

    async def scenario():
        log = opened(tmp_path)
        log.start()
        await log.write(SampleBatch.of_writes(
            [SeriesWrite(key, times, np.full(50, float(i))) for i, key in enumerate(keys)]))
        monkeypatch.setattr(SampleLog, "_chunk_series", fail_the_second_slice)
        with pytest.raises(sqlite3.OperationalError):
            await asyncio.to_thread(log.compact, NOW)
        half_way = count(log, "batches"), count(log, "chunks")
        monkeypatch.setattr(SampleLog, "_chunk_series", original)
        await asyncio.to_thread(log.compact, NOW)  # the first slice's samples merged again, once
        done = count(log, "batches"), count(log, "chunks")
        log.close()
        return half_way, done

    half_way, done = asyncio.run(scenario())
    assert half_way == (1, 3) and done == (0, 8)
    stored = read_committed(tmp_path / "samples.sqlite")
    for i, key in enumerate(keys):
        np.testing.assert_array_equal(stored[key][0], times)
        assert set(stored[key][1].tolist()) == {float(i)}
