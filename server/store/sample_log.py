"""The durable log under the embedded store: SQLite in WAL mode, synchronous=FULL.

A committed transaction survives kill -9 and power loss, and a crash cannot tear
the file. One writer thread owns the connection and commits everything queued
since its last commit in one transaction (group commit), so concurrent agent
streams share each fsync. A group commit is one row (`batches`): the samples of all
its writes as columns, a few statements however many samples it holds.

Compaction runs in the same thread between writes, so ingest never stops for long:
it moves committed batches into per-series compressed chunks (`chunks`, Gorilla-style,
see gorilla_kernels.py; up to CHUNK_SAMPLES samples a row, the last chunk of a series
growing until full), turns raw samples older than the raw window into 5-minute
aggregates (sum, count, max), and deletes aggregates older than the retention.

Idempotent on (series, timestamp): a sample written twice (a resend after a reconnect)
may sit in two batches until compaction; compaction and replay keep the one committed
first, as memory does (a resent sample is skipped).

A failed commit (a full disk) stores nothing and is reported to every waiting write
as CommitFailed, which ingest answers with a retryable status; what the writer
learnt inside the failed transaction (new series' ids) is forgotten with it. Nothing
that fails, compaction included, stops the writer, and every write gets an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
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
from infracast.server.store import gorilla_kernels as gorilla
from infracast.server.store.base import CommitFailed, SampleBatch
from infracast.server.store.database_file import database_file
from infracast.server.store.write_health import WriteHealth, describe

log = logging.getLogger(__name__)

BUCKET_MS = 300_000
# A sealed chunk's samples: an hour at 10 s. Larger chunks compress a little better
# (the header and first value are spread over more samples) but cost more to rewrite
# while the last one of a series grows, once a compaction.
CHUNK_SAMPLES = 360
# Raw samples may stay raw on disk up to this long past the raw window (replay ages them
# in memory as the live server did), so a series' chunks are rewritten to age them once
# in this long rather than at every compaction.
AGE_STEP_MS = 1_800_000
# Series whose new samples one compaction transaction moves into chunks (~0.2 s of work).
COMPACTION_SERIES = 5_000
SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    metric TEXT NOT NULL,
    labels TEXT NOT NULL,
    UNIQUE (metric, labels)
);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    series_id INTEGER NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    count INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (series_id, first_ts)
);
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
        self.samples_written = 0
        self._lock_file: int | None = None
        self._connection: sqlite3.Connection | None = None
        self._series_ids: dict[SeriesKey, int] = {}
        # Log ids by the memory store's slot (-1: not known yet), so that a batch's series
        # are found without hashing their keys; learnt as series are first committed. Valid
        # because memory never hands a slot to another series (it never drops one): a
        # memory store that did would have to clear this.
        self._ids_by_slot = np.full(1024, -1, dtype=np.int64)
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
        # Per series (by id): the first timestamp of its oldest chunk (it ages into
        # aggregates once that is well out of the raw window), and its last chunk's
        # (first_ts, last_ts, count), which compaction extends until it is full.
        self._oldest_starts: dict[int, int] = {}
        self._tails: dict[int, tuple[int, int, int]] = {}

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
        with database_file(self.path, holds="samples"):
            connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            # Pages of 16 KiB (for a new file; one made before keeps its size): chunks of noisy
            # series take 2-3 KiB, of which a 4 KiB page held one and left the rest unused.
            connection.execute("PRAGMA page_size=16384")
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.executescript(SCHEMA)
            self._connection = connection
            for series_id, metric, labels in connection.execute("SELECT id, metric, labels FROM series"):
                self._series_ids[SeriesKey.interned(metric, dict(json.loads(labels)))] = series_id
            _migrate_sample_rows(connection)
            self._load_spans()
            (last_bucket,) = connection.execute("SELECT MAX(bucket) FROM aggregates").fetchone()
            self.compacted_before = 0 if last_bucket is None else int(last_bucket) + BUCKET_MS

    def _load_spans(self) -> None:
        """Each series' oldest chunk's start and last chunk's span."""
        assert self._connection is not None
        self._oldest_starts.clear()
        self._tails.clear()
        for series_id, first_ts, last_ts, count in self._connection.execute(
                "SELECT series_id, first_ts, last_ts, count FROM chunks ORDER BY series_id, first_ts"):
            self._oldest_starts.setdefault(series_id, first_ts)
            self._tails[series_id] = (first_ts, last_ts, count)

    def replay(self) -> Iterator[ReplayedSeries]:
        """Everything stored, series by series, oldest first."""
        connection = self._connection
        assert connection is not None
        with database_file(self.path, holds="samples"):  # a page damaged past the header shows here
            pending = _PendingSamples.read(connection)
            for key, series_id in self._series_ids.items():
                aggregates = np.array(connection.execute(
                    "SELECT bucket, total, count, maximum FROM aggregates WHERE series_id = ? "
                    "ORDER BY bucket", (series_id,)).fetchall(), dtype=np.float64).reshape(-1, 4)
                chunks = [row[0] for row in connection.execute(
                    "SELECT data FROM chunks WHERE series_id = ? ORDER BY first_ts", (series_id,))]
                timestamps, values = _first_of_each_time(*_decoded(chunks), *pending.of(series_id))
                yield ReplayedSeries(
                    key, aggregates[:, 0].astype(np.int64), aggregates[:, 1],
                    aggregates[:, 2].astype(np.int64), aggregates[:, 3], timestamps, values)

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

    async def write(self, batch: SampleBatch) -> None:
        """Return once the samples are committed to disk; raise CommitFailed if they
        could not be (nothing of them is stored then)."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        with self._accepting_lock:
            if self._refusal is not None:
                raise CommitFailed(self._refusal)
            self._queue.put((batch, loop, done))
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
                    _answer([item], stopped)

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
            self._commit([batch for batch, _, _ in pending])
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
            _answer(pending, error)

    def _compact_reporting_failure(self) -> None:
        try:
            self.compact()
        except Exception as failure:  # tried again at the next interval
            self.health.compaction_failed(failure)
        else:
            self.health.compaction_succeeded()

    def _commit(self, batches: list[SampleBatch]) -> None:
        connection = self._connection
        assert connection is not None
        # Series first stored in this transaction: their ids are known only once it commits
        # (a rollback frees them, and SQLite hands them to the next new series).
        new_ids: dict[SeriesKey, int] = {}
        new_slot_ids: list[tuple[int, int]] = []
        connection.execute("BEGIN IMMEDIATE")
        try:
            columns = [self._ids_and_counts(batch, new_ids, new_slot_ids) for batch in batches]
            batch = _Batch.of(np.concatenate([ids for ids, _ in columns]),
                              np.concatenate([counts for _, counts in columns]),
                              np.concatenate([b.timestamps_ms for b in batches]),
                              np.concatenate([b.values for b in batches]), self.compacted_before)
            if batch.size:
                connection.execute("INSERT INTO batches (data) VALUES (?)", (batch.encoded(),))
            if self.before_commit is not None:
                self.before_commit()
            connection.execute("COMMIT")
        except BaseException:
            _roll_back(connection)
            raise
        self._series_ids.update(new_ids)
        self._learn_slots(new_slot_ids)
        self.commits += 1
        self.samples_written += batch.size

    def _ids_and_counts(self, batch: SampleBatch, new_ids: dict[SeriesKey, int],
                        new_slot_ids: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """Log ids and sample counts of the batch's series with samples: by slot where the
        memory store numbered them, by key (adding new series) for the rest."""
        counts = batch.counts()
        present = np.flatnonzero(counts)
        ids = np.full(len(present), -1, dtype=np.int64)
        slots = batch.slots[present] if batch.slots is not None else None
        if slots is not None:
            known = (slots >= 0) & (slots < len(self._ids_by_slot))
            ids[known] = self._ids_by_slot[slots[known]]
        for place in np.flatnonzero(ids < 0).tolist():
            ids[place] = series_id = self._series_id(batch.keys[present[place]], new_ids)
            if slots is not None and slots[place] >= 0:
                new_slot_ids.append((int(slots[place]), series_id))
        return ids, counts[present]

    def _learn_slots(self, slot_ids: list[tuple[int, int]]) -> None:
        if not slot_ids:
            return
        slots = np.array([slot for slot, _ in slot_ids], dtype=np.int64)
        if slots.max() >= len(self._ids_by_slot):
            grown = np.full(max(2 * len(self._ids_by_slot), int(slots.max()) + 1), -1, dtype=np.int64)
            grown[: len(self._ids_by_slot)] = self._ids_by_slot
            self._ids_by_slot = grown
        self._ids_by_slot[slots] = [series_id for _, series_id in slot_ids]

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
        """Move committed batches into chunks, fold raw samples older than the raw window
        into aggregates, drop aggregates older than the retention."""
        self._last_compaction = time.monotonic()
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        raw_cut = now_ms - self.raw_window_ms
        raw_cut -= raw_cut % BUCKET_MS  # whole buckets only
        connection = self._connection
        assert connection is not None
        self._chunk_batches()
        # A series ages once its oldest chunk starts an age step before the cut, not at every
        # compaction: each time, the chunk the cut falls in is rewritten.
        age_before = raw_cut - min(AGE_STEP_MS, self.raw_window_ms // 4)
        for series_id in [s for s, start in self._oldest_starts.items() if start < age_before]:
            self._in_transaction(functools.partial(self._age, series_id, raw_cut), series_id)
        oldest = now_ms - self.retention_ms - BUCKET_MS
        self._in_transaction(lambda: connection.executemany(
            "DELETE FROM aggregates WHERE series_id = ? AND bucket < ?",
            [(series_id, oldest) for series_id in self._series_ids.values()]))
        self.compacted_before = max(self.compacted_before, raw_cut)
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _in_transaction(self, work: Callable[[], object], series_id: int | None = None) -> None:
        """Run work in a transaction; on a rollback, put back what the writer knows of the
        chunks (of one series, or of all)."""
        connection = self._connection
        assert connection is not None
        oldest_starts, tails = self._oldest_starts, self._tails
        if series_id is None:
            oldest_starts, tails = dict(oldest_starts), dict(tails)
        oldest_start, tail = oldest_starts.get(series_id or 0), tails.get(series_id or 0)
        connection.execute("BEGIN IMMEDIATE")
        try:
            work()
            connection.execute("COMMIT")
        except BaseException:
            _roll_back(connection)
            if series_id is None:
                self._oldest_starts, self._tails = oldest_starts, tails
            else:
                _put_back(self._oldest_starts, series_id, oldest_start)
                _put_back(self._tails, series_id, tail)
            raise

    def _chunk_batches(self) -> None:
        """Every committed batch into the chunks of its series, some thousand series a
        transaction with the writes queued meanwhile committed in between (so acks do not
        wait for all of it), then the batches deleted. A crash or failure half-way leaves
        the batches, and the next compaction merges them again: their samples already in
        chunks are the same ones, kept once."""
        connection = self._connection
        assert connection is not None
        pending = _PendingSamples.read(connection)
        if not pending.size:
            return
        series_ids = pending.series_ids()
        for start in range(0, len(series_ids), COMPACTION_SERIES):
            self._in_transaction(functools.partial(
                self._chunk_series, pending, series_ids[start: start + COMPACTION_SERIES]))
            self._commit_waiting_writes()
        self._in_transaction(functools.partial(
            connection.execute, "DELETE FROM batches WHERE id <= ?", (pending.last_batch,)))

    def _chunk_series(self, pending: _PendingSamples, series_ids: list[int]) -> None:
        connection = self._connection
        assert connection is not None
        removed: list[tuple[int, int]] = []
        added: list[tuple[int, int, int, int, bytes]] = []
        for series_id in series_ids:
            new_times, new_values = pending.of(series_id)
            tail = self._tails.get(series_id)
            held: list[bytes] = []
            if tail is not None and (tail[2] < CHUNK_SAMPLES or new_times.min() <= tail[1]):
                # Extend the last chunk, or rewrite every chunk a late sample falls in.
                rows = connection.execute(
                    "SELECT first_ts, data FROM chunks WHERE series_id = ? AND "
                    "(first_ts >= ? OR last_ts >= ?) ORDER BY first_ts",
                    (series_id, tail[0], int(new_times.min()))).fetchall()
                removed.extend((series_id, first_ts) for first_ts, _ in rows)
                held = [data for _, data in rows]
            times, values = _first_of_each_time(*_decoded(held), new_times, new_values)
            spans = self._chunk_rows(series_id, times, values, added)
            # Rows rewritten start no earlier than spans[0]: the oldest chunk is that or older.
            self._oldest_starts[series_id] = min(self._oldest_starts.get(series_id, spans[0][0]),
                                                 spans[0][0])
            self._tails[series_id] = spans[-1]
        connection.executemany("DELETE FROM chunks WHERE series_id = ? AND first_ts = ?", removed)
        connection.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?)", added)

    def _commit_waiting_writes(self) -> None:
        """Commit the writes queued during a long compaction (in the writer thread only: a
        test calling compact() itself has none to take)."""
        if threading.current_thread() is not self._writer:
            return
        waiting = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:  # closing: the write loop stops at it after the compaction
                self._queue.put(None)
                break
            waiting.append(item)
        if waiting:
            self._commit_group(waiting)

    @staticmethod
    def _chunk_rows(series_id: int, times: np.ndarray, values: np.ndarray,
                    rows: list[tuple[int, int, int, int, bytes]]) -> list[tuple[int, int, int]]:
        """Cut sorted samples into chunks of CHUNK_SAMPLES (the last one shorter); add their
        rows and return their (first_ts, last_ts, count)."""
        spans = []
        for start in range(0, len(times), CHUNK_SAMPLES):
            chunk_times = times[start: start + CHUNK_SAMPLES]
            data = gorilla.encode_samples(chunk_times, values[start: start + CHUNK_SAMPLES]).tobytes()
            span = (int(chunk_times[0]), int(chunk_times[-1]), len(chunk_times))
            rows.append((series_id, *span, data))
            spans.append(span)
        return spans

    def _age(self, series_id: int, raw_cut: int) -> None:
        """Fold a series' samples older than raw_cut into aggregates (a transaction is open)."""
        connection = self._connection
        assert connection is not None
        rows = connection.execute(
            "SELECT first_ts, data FROM chunks WHERE series_id = ? AND first_ts < ? ORDER BY first_ts",
            (series_id, raw_cut)).fetchall()
        times, values = _decoded([data for _, data in rows])
        old = times < raw_cut
        buckets, index = np.unique(times[old] - times[old] % BUCKET_MS, return_inverse=True)
        maxima = np.full(len(buckets), -np.inf)
        np.maximum.at(maxima, index, values[old])
        connection.executemany(
            "INSERT INTO aggregates (series_id, bucket, total, count, maximum) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (series_id, bucket) DO UPDATE SET total = total + excluded.total, "
            "count = count + excluded.count, maximum = MAX(maximum, excluded.maximum)",
            zip([series_id] * len(buckets), buckets.tolist(),
                np.bincount(index, weights=values[old], minlength=len(buckets)).tolist(),
                np.bincount(index, minlength=len(buckets)).tolist(), maxima.tolist(), strict=True))
        connection.executemany("DELETE FROM chunks WHERE series_id = ? AND first_ts = ?",
                               [(series_id, first_ts) for first_ts, _ in rows])
        added: list[tuple[int, int, int, int, bytes]] = []
        spans = self._chunk_rows(series_id, times[~old], values[~old], added)
        connection.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?)", added)
        following = connection.execute(
            "SELECT first_ts FROM chunks WHERE series_id = ? AND first_ts >= ? ORDER BY first_ts LIMIT 1",
            (series_id, raw_cut)).fetchone()
        if spans:
            self._oldest_starts[series_id] = spans[0][0]
        elif following is not None:
            self._oldest_starts[series_id] = following[0]
        else:
            del self._oldest_starts[series_id]
        tail = self._tails.get(series_id)
        if tail is not None and tail[0] < raw_cut:  # its last chunk was among those rewritten
            if spans:
                self._tails[series_id] = spans[-1]
            else:
                del self._tails[series_id]


class _Batch:
    """One group commit's samples as columns: series ids and sample counts per write,
    then every timestamp and every value."""

    def __init__(self, ids: np.ndarray, counts: np.ndarray, times: np.ndarray, values: np.ndarray) -> None:
        self.ids, self.counts, self.times, self.values = ids, counts, times, values

    @classmethod
    def of(cls, ids: np.ndarray, counts: np.ndarray, times: np.ndarray, values: np.ndarray,
           compacted_before: int) -> _Batch:
        """From each series' id and sample count and the samples, less those older than
        compacted_before (folded into aggregates already: logged raw again, they would
        count twice)."""
        times = times.astype(np.int64, copy=False)
        values = values.astype(np.float64, copy=False)
        if len(times) and times.min() < compacted_before:
            recent = times >= compacted_before
            owner = np.repeat(np.arange(len(ids)), counts)
            counts = np.bincount(owner[recent], minlength=len(ids))
            times, values = times[recent], values[recent]
        return cls(ids, counts, times, values)

    @property
    def size(self) -> int:
        return len(self.times)

    def encoded(self) -> bytes:
        header = np.array([len(self.ids), len(self.times)], dtype=np.int64)
        return b"".join(a.tobytes() for a in (header, self.ids, self.counts, self.times, self.values))

    @classmethod
    def decoded(cls, data: bytes) -> _Batch:
        writes, samples = np.frombuffer(data, dtype=np.int64, count=2)
        words = np.frombuffer(data, dtype=np.int64, offset=16)
        ids, counts = words[:writes], words[writes: 2 * writes]
        times = words[2 * writes: 2 * writes + samples]
        values = words[2 * writes + samples: 2 * writes + 2 * samples].view(np.float64)
        return cls(ids, counts, times, values)


class _PendingSamples:
    """The samples of every committed batch not yet in chunks, grouped by series, each
    series' in commit order."""

    def __init__(self, batches: list[tuple[int, bytes]]) -> None:
        decoded = [_Batch.decoded(data) for _, data in batches]
        self.last_batch = batches[-1][0] if batches else 0
        owners = np.concatenate([np.repeat(b.ids, b.counts) for b in decoded]) if decoded else \
            np.empty(0, dtype=np.int64)
        order = np.argsort(owners, kind="stable")
        self._owners = owners[order]
        self._times = np.concatenate([b.times for b in decoded])[order] if decoded else owners
        self._values = np.concatenate([b.values for b in decoded])[order] if decoded else np.empty(0)

    @classmethod
    def read(cls, connection: sqlite3.Connection) -> _PendingSamples:
        return cls(connection.execute("SELECT id, data FROM batches ORDER BY id").fetchall())

    @property
    def size(self) -> int:
        return len(self._owners)

    def series_ids(self) -> list[int]:
        return np.unique(self._owners).tolist()

    def of(self, series_id: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = np.searchsorted(self._owners, [series_id, series_id + 1])
        return self._times[start:end], self._values[start:end]


def _put_back(known: dict, series_id: int, value: object) -> None:
    if value is None:
        known.pop(series_id, None)
    else:
        known[series_id] = value


def _decoded(chunks: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Chunks' samples, concatenated in their order."""
    if not chunks:
        return np.empty(0, dtype=np.int64), np.empty(0)
    offsets = np.cumsum([0, *map(len, chunks)], dtype=np.int64)
    return gorilla.decode_many(np.frombuffer(b"".join(chunks), dtype=np.uint8), offsets)


def _first_of_each_time(*parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(times, values, times, values, ...) merged in time order; of samples with the same
    time, the one in the earliest part (or earliest within it) is kept."""
    times = np.concatenate(parts[0::2]).astype(np.int64, copy=False)
    values = np.concatenate(parts[1::2]).astype(np.float64, copy=False)
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    first = np.ones(len(times), dtype=bool)
    first[1:] = times[1:] != times[:-1]
    return times[first], values[first]


def _migrate_sample_rows(connection: sqlite3.Connection) -> None:
    """A data directory of an earlier version holds a row per sample: into chunks, once."""
    if connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'samples'").fetchone() is None:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        rows: list[tuple[int, int, int, int, bytes]] = []
        for (series_id,) in connection.execute("SELECT DISTINCT series_id FROM samples").fetchall():
            raw = connection.execute("SELECT ts, value FROM samples WHERE series_id = ? ORDER BY ts",
                                     (series_id,)).fetchall()
            SampleLog._chunk_rows(series_id, np.array([r[0] for r in raw], dtype=np.int64),
                                  np.array([r[1] for r in raw], dtype=np.float64), rows)
        connection.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?)", rows)
        connection.execute("DROP TABLE samples")
        connection.execute("COMMIT")
    except BaseException:
        _roll_back(connection)
        raise


def read_committed(database: Path) -> dict[SeriesKey, tuple[np.ndarray, np.ndarray]]:
    """Every raw sample committed to a log, by series, read through a connection of its own
    (so only what is committed): for tests and tools outside the server."""
    connection = sqlite3.connect(database)
    try:
        connection.execute("BEGIN")  # one snapshot for the three reads
        keys = {series_id: SeriesKey.of(metric, dict(json.loads(labels)))
                for series_id, metric, labels in connection.execute("SELECT id, metric, labels FROM series")}
        pending = _PendingSamples.read(connection)
        stored = {}
        for series_id, key in keys.items():
            chunks = [row[0] for row in connection.execute(
                "SELECT data FROM chunks WHERE series_id = ? ORDER BY first_ts", (series_id,))]
            times, values = _first_of_each_time(*_decoded(chunks), *pending.of(series_id))
            if len(times):
                stored[key] = (times, values)
        return stored
    finally:
        connection.close()


def _roll_back(connection: sqlite3.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already: it does so by itself on
    some errors (a full disk among them), and ROLLBACK would then fail and hide them."""
    if not connection.in_transaction:
        return
    try:
        connection.execute("ROLLBACK")
    except sqlite3.Error as error:
        log.warning("rollback failed: %s", describe(error))


def _answer(items: list[tuple], error: BaseException | None) -> None:
    """Settle the writes' futures: one wake-up of each event loop for all of its writes (a
    group commit answers hundreds of streams, and each wake-up is a write to a pipe)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future]] = {}
    for _, loop, done in items:
        by_loop.setdefault(loop, []).append(done)
    for loop, dones in by_loop.items():
        with contextlib.suppress(RuntimeError):  # its event loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_settle, dones, error)


def _settle(dones: list[asyncio.Future], error: BaseException | None) -> None:
    for done in dones:
        if done.cancelled():
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
