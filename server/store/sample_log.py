"""The durable log under the embedded store: SQLite in WAL mode, synchronous=FULL.

A committed transaction survives kill -9 and power loss, and a crash cannot tear
the file. One writer thread owns the connection and commits everything queued
since its last commit in one transaction (group commit), so concurrent agent
streams share each fsync. Rows are (series, timestamp) unique: writing a sample
twice keeps one.

Compaction runs in the same thread between writes, one series per transaction, so
ingest never stops: raw samples older than the raw window become 5-minute
aggregates (sum, count, max), and aggregates older than the retention are deleted.

A failed commit (a full disk) stores nothing and is reported to every waiting write
as CommitFailed, which ingest answers with a retryable status; what the writer
learnt inside the failed transaction (new series' ids) is forgotten with it. Nothing
that fails, compaction included, stops the writer, and every write gets an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import math
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from infracast.server.series import SeriesKey
from infracast.server.store.base import CommitFailed, SeriesWrite
from infracast.server.store.write_health import WriteHealth, describe

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
        # Why writes are refused (None while the writer runs); guarded by _accepting_lock,
        # since a write queued after the writer stopped would wait for ever.
        self._accepting_lock = threading.Lock()
        self._refusal: str | None = "the sample log is not started"
        self.health = WriteHealth(str(directory))
        # Called in the writer thread just before COMMIT: tests hold the commit there to
        # check that nothing is acknowledged before it.
        self.before_commit: Callable[[], None] | None = None
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
        self._refusal = None
        self._writer = threading.Thread(target=self._write_loop, name="sample-log", daemon=True)
        self._writer.start()

    def close(self) -> None:
        if self._writer is not None:
            with self._accepting_lock:
                self._refusal = self._refusal or "the sample log is closed"
                self._queue.put(None)
            self._writer.join()
            self._writer = None
        if self._connection is not None:
            try:
                self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as error:  # e.g. a full disk: the WAL keeps every commit
                log.warning("sample log not checkpointed on close (%s); replayed from its "
                            "write-ahead log at the next start", describe(error))
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
        """Return once the samples are committed to disk; raise CommitFailed if they
        could not be (nothing of them is stored then)."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        with self._accepting_lock:
            if self._refusal is not None:
                raise CommitFailed(self._refusal)
            self._queue.put((writes, loop, done))
        await done

    def _write_loop(self) -> None:
        try:
            stop = False
            while not stop:
                pending, stop = self._next_group()
                if pending:
                    self._commit_group(pending)
                if not stop and time.monotonic() - self._last_compaction >= self.compact_every_s:
                    self._compact_reporting_failure()
        finally:
            # Whatever ended the loop, no write is left waiting for an answer.
            with self._accepting_lock:
                self._refusal = self._refusal or "the sample log stopped"
            stopped = CommitFailed("the sample log stopped")
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    _answer(item, stopped)

    def _next_group(self) -> tuple[list, bool]:
        """The next write and everything queued up behind it (group commit); True at the end."""
        item = self._queue.get()
        if item is None:
            return [], True
        pending = [item]
        while True:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                return pending, False
            if more is None:
                return pending, True
            pending.append(more)

    def _commit_group(self, pending: list) -> None:
        error: BaseException | None = None
        try:
            self._commit([writes for writes, _, _ in pending])
            self.health.commit_succeeded()
            if self.health.compaction_error is not None:
                # Writes work again (space came back): compact now, not an interval later.
                self._last_compaction = -math.inf
        except Exception as failure:  # reported to every waiting stream, which resends
            self.health.commit_failed(failure)
            error = CommitFailed(describe(failure))
            error.__cause__ = failure
        except BaseException:  # the thread ends (see _write_loop); its writes are answered
            error = CommitFailed("the sample log stopped")
            raise
        finally:
            for item in pending:
                _answer(item, error)

    def _compact_reporting_failure(self) -> None:
        try:
            self.compact()
        except Exception as failure:  # tried again at the next interval
            self.health.compaction_failed(failure)
        else:
            self.health.compaction_succeeded()

    def _commit(self, groups: list[list[SeriesWrite]]) -> None:
        connection = self._connection
        assert connection is not None
        rows: list[tuple[int, int, float]] = []
        # Series first stored in this transaction: their ids are known only once it commits
        # (a rollback frees them, and SQLite hands them to the next new series).
        new_ids: dict[SeriesKey, int] = {}
        connection.execute("BEGIN IMMEDIATE")
        try:
            for writes in groups:
                for write in writes:
                    series_id = self._series_id(write.key, new_ids)
                    timestamps, values = write.timestamps_ms, write.values
                    if len(timestamps) and timestamps.min() < self.compacted_before:
                        recent = timestamps >= self.compacted_before
                        timestamps, values = timestamps[recent], values[recent]
                    rows.extend(zip([series_id] * len(timestamps), timestamps.tolist(),
                                    values.tolist(), strict=True))
            connection.executemany("INSERT OR IGNORE INTO samples VALUES (?, ?, ?)", rows)
            if self.before_commit is not None:
                self.before_commit()
            connection.execute("COMMIT")
        except BaseException:
            _roll_back(connection)
            raise
        self._series_ids.update(new_ids)
        self.commits += 1
        self.rows_written += len(rows)

    def _series_id(self, key: SeriesKey, new_ids: dict[SeriesKey, int]) -> int:
        series_id = self._series_ids.get(key) or new_ids.get(key)
        if series_id is None:
            assert self._connection is not None
            cursor = self._connection.execute(
                "INSERT INTO series (metric, labels) VALUES (?, ?)",
                (key.metric, json.dumps(key.labels)))
            series_id = new_ids[key] = int(cursor.lastrowid or 0)
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
                _roll_back(connection)
                raise
        self.compacted_before = max(self.compacted_before, raw_cut)
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _roll_back(connection: sqlite3.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already: it does so by itself on
    some errors (a full disk among them), and ROLLBACK would then fail and hide them."""
    if not connection.in_transaction:
        return
    try:
        connection.execute("ROLLBACK")
    except sqlite3.Error as error:
        log.warning("rollback failed: %s", describe(error))


def _answer(item: tuple, error: BaseException | None) -> None:
    _, loop, done = item
    with contextlib.suppress(RuntimeError):  # its event loop is closed: nobody waits any more
        loop.call_soon_threadsafe(_settle, done, error)


def _settle(done: asyncio.Future, error: BaseException | None) -> None:
    if done.cancelled():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
