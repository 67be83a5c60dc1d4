"""The durable log under the embedded store: SQLite in WAL mode, synchronous=FULL.

A committed transaction survives kill -9 and power loss, and a crash cannot tear
the file. One writer thread owns the connection and commits everything queued
since its last commit in one transaction (group commit), so concurrent agent
streams share each fsync. Rows are (series, timestamp) unique: writing a sample
twice keeps one.

Compaction runs in the same thread between writes, one series per transaction, so
ingest never stops: raw samples older than the raw window become 5-minute
aggregates (sum, count, max), and aggregates older than the retention are deleted.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from infracast.server.series import SeriesKey
from infracast.server.store.base import SeriesWrite

log = logging.getLogger(__name__)

BUCKET_MS = 300_000
SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    metric TEXT NOT NULL,
    labels TEXT NOT NULL,
    UNIQUE (metric, labels)
);
CREATE TABLE IF NOT EXISTS samples (
    series_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aggregates (
    series_id INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    total REAL NOT NULL,
    count INTEGER NOT NULL,
    maximum REAL NOT NULL,
    PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID;
"""


class DataDirectoryLocked(RuntimeError):
    """Another server holds the data directory."""


@dataclass(frozen=True)
class ReplayedSeries:
    key: SeriesKey
    bucket_starts: np.ndarray
    bucket_sums: np.ndarray
    bucket_counts: np.ndarray
    bucket_maxima: np.ndarray
    timestamps_ms: np.ndarray
    values: np.ndarray


class SampleLog:
    def __init__(self, directory: Path, raw_window_ms: int, retention_ms: int,
                 compact_every_s: float = 60.0) -> None:
        self.directory = directory
        self.path = directory / "samples.sqlite"
        self.raw_window_ms = raw_window_ms
        self.retention_ms = retention_ms
        self.compact_every_s = compact_every_s
        self.commits = 0
        self.rows_written = 0
        self._lock_file: int | None = None
        self._connection: sqlite3.Connection | None = None
        self._series_ids: dict[SeriesKey, int] = {}
        self._queue: queue.Queue = queue.Queue()
        self._writer: threading.Thread | None = None
        self._last_compaction = time.monotonic()
        # Samples before this were folded into aggregates; a late one is not logged again
        # raw, or the next compaction would count it twice.
        self.compacted_before = 0

    # Opening, replay and closing run before serving and after it: no writer yet / any more.

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_file = os.open(self.directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._lock_file, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(self._lock_file)
            self._lock_file = None
            raise DataDirectoryLocked(
                f"data directory {self.directory} is in use by another infracast-server "
                f"(pid {holder}); stop it or choose another --data-dir") from None
        os.ftruncate(self._lock_file, 0)
        os.pwrite(self._lock_file, str(os.getpid()).encode(), 0)
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.executescript(SCHEMA)
        self._connection = connection
        for series_id, metric, labels in connection.execute("SELECT id, metric, labels FROM series"):
            self._series_ids[SeriesKey.interned(metric, dict(json.loads(labels)))] = series_id
        (last_bucket,) = connection.execute("SELECT MAX(bucket) FROM aggregates").fetchone()
        self.compacted_before = 0 if last_bucket is None else int(last_bucket) + BUCKET_MS

    def replay(self) -> Iterator[ReplayedSeries]:
        """Everything stored, series by series, oldest first."""
        assert self._connection is not None
        for key, series_id in self._series_ids.items():
            aggregates = np.array(self._connection.execute(
                "SELECT bucket, total, count, maximum FROM aggregates WHERE series_id = ? "
                "ORDER BY bucket", (series_id,)).fetchall(), dtype=np.float64).reshape(-1, 4)
            raw = np.array(self._connection.execute(
                "SELECT ts, value FROM samples WHERE series_id = ? ORDER BY ts",
                (series_id,)).fetchall(), dtype=np.float64).reshape(-1, 2)
            yield ReplayedSeries(
                key, aggregates[:, 0].astype(np.int64), aggregates[:, 1],
                aggregates[:, 2].astype(np.int64), aggregates[:, 3],
                raw[:, 0].astype(np.int64), raw[:, 1])

    def start(self) -> None:
        self._writer = threading.Thread(target=self._write_loop, name="sample-log", daemon=True)
        self._writer.start()

    def close(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None
        if self._connection is not None:
            self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._connection.close()
            self._connection = None
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            os.close(self._lock_file)
            self._lock_file = None

    @property
    def size_bytes(self) -> int:
        """Bytes on disk: the database and its write-ahead log."""
        total = 0
        for path in (self.path, self.path.with_name(self.path.name + "-wal")):
            try:
                total += path.stat().st_size
            except OSError:
                continue
        return total

    # Writing

    async def write(self, writes: list[SeriesWrite]) -> None:
        """Return once the samples are committed to disk."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._queue.put((writes, loop, done))
        await done

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            pending = [item]
            stop = False
            while True:  # group commit: take everything that queued up meanwhile
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                pending.append(more)
            try:
                self._commit([writes for writes, _, _ in pending])
                error = None
            except Exception as failure:  # reported to every waiting stream, which retries
                log.exception("writing samples failed")
                error = failure
            for _, loop, done in pending:
                loop.call_soon_threadsafe(_settle, done, error)
            if stop:
                return
            if time.monotonic() - self._last_compaction >= self.compact_every_s:
                self.compact()

    def _commit(self, groups: list[list[SeriesWrite]]) -> None:
        connection = self._connection
        assert connection is not None
        rows = []
        connection.execute("BEGIN IMMEDIATE")
        try:
            for writes in groups:
                for write in writes:
                    series_id = self._series_id(write.key)
                    timestamps, values = write.timestamps_ms, write.values
                    if len(timestamps) and timestamps.min() < self.compacted_before:
                        recent = timestamps >= self.compacted_before
                        timestamps, values = timestamps[recent], values[recent]
                    rows.extend(zip([series_id] * len(timestamps), timestamps.tolist(),
                                    values.tolist(), strict=True))
            connection.executemany("INSERT OR IGNORE INTO samples VALUES (?, ?, ?)", rows)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        self.commits += 1
        self.rows_written += len(rows)

    def _series_id(self, key: SeriesKey) -> int:
        series_id = self._series_ids.get(key)
        if series_id is None:
            assert self._connection is not None
            cursor = self._connection.execute(
                "INSERT INTO series (metric, labels) VALUES (?, ?)",
                (key.metric, json.dumps(key.labels)))
            series_id = self._series_ids[key] = int(cursor.lastrowid or 0)
        return series_id

    # Compaction and retention

    def compact(self, now_ms: int | None = None) -> None:
        """Fold raw samples older than the raw window into aggregates; drop old aggregates."""
        self._last_compaction = time.monotonic()
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        raw_cut = now_ms - self.raw_window_ms
        raw_cut -= raw_cut % BUCKET_MS  # whole buckets only
        oldest = now_ms - self.retention_ms
        connection = self._connection
        assert connection is not None
        for series_id in list(self._series_ids.values()):
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute(
                    "INSERT INTO aggregates (series_id, bucket, total, count, maximum) "
                    "SELECT series_id, ts - ts % ?, SUM(value), COUNT(*), MAX(value) FROM samples "
                    "WHERE series_id = ? AND ts < ? GROUP BY ts - ts % ? "
                    "ON CONFLICT (series_id, bucket) DO UPDATE SET total = total + excluded.total, "
                    "count = count + excluded.count, maximum = MAX(maximum, excluded.maximum)",
                    (BUCKET_MS, series_id, raw_cut, BUCKET_MS))
                connection.execute("DELETE FROM samples WHERE series_id = ? AND ts < ?",
                                   (series_id, raw_cut))
                connection.execute("DELETE FROM aggregates WHERE series_id = ? AND bucket < ?",
                                   (series_id, oldest - BUCKET_MS))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        self.compacted_before = max(self.compacted_before, raw_cut)
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _settle(done: asyncio.Future, error: BaseException | None) -> None:
    if done.cancelled():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
