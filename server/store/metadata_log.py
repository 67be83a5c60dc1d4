"""The durable home of metric descriptors: a SQLite file of its own in the data directory.

Kept apart from the sample log (samples.sqlite and its writer thread): descriptors change
rarely (an agent's first stream, a new exporter) and are a few hundred rows, so each write
is one small transaction committed on the calling worker thread, WAL mode and
synchronous=FULL as the sample log does, before the hello or batch that carried them is
acknowledged. The data directory's LOCK (taken by the sample log) already keeps a second
server away. A failed commit raises CommitFailed, which ingest answers as retryable.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

from infracast.server.metadata.descriptors import TYPES, MetricDescriptor
from infracast.server.store.base import CommitFailed
from infracast.server.store.database_file import database_file

FILE_NAME = "metadata.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (
    metric TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    unit TEXT NOT NULL,
    help TEXT NOT NULL,
    introduced_by TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
"""


class MetadataLog:
    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Written from worker threads (asyncio.to_thread), one at a time under _lock.
        with database_file(self.path, holds="metric descriptors"):
            self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=FULL")
            self._connection.executescript(SCHEMA)
            _add_introducers(self._connection)
        self._lock = threading.Lock()

    def load(self) -> list[tuple[MetricDescriptor, str]]:
        """Every stored descriptor and the node that introduced it ("" for a fleet-wide
        sender); a row whose type this version does not know is read as undeclared rather
        than refusing to start."""
        with self._lock, database_file(self.path, holds="metric descriptors"):
            rows = self._connection.execute(
                "SELECT metric, type, unit, help, introduced_by FROM metrics").fetchall()
        return [(MetricDescriptor(metric, kind if kind in TYPES else "", unit, text), node)
                for metric, kind, unit, text, node in rows]

    def write(self, descriptors: list[MetricDescriptor], introduced_by: str = "") -> None:
        """Insert or update the descriptors in one transaction (a metric already stored
        keeps the node that introduced it); CommitFailed if it fails."""
        with self._lock:
            try:
                self._connection.execute("BEGIN IMMEDIATE")
                self._connection.executemany(
                    "INSERT INTO metrics (metric, type, unit, help, introduced_by) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (metric) DO UPDATE SET type = excluded.type, unit = excluded.unit, "
                    "help = excluded.help",
                    [(d.metric, d.type, d.unit, d.help, introduced_by) for d in descriptors])
                self._connection.execute("COMMIT")
            except sqlite3.Error as error:
                with contextlib.suppress(sqlite3.Error):  # the commit's error is the one to report
                    self._connection.execute("ROLLBACK")
                raise CommitFailed(f"metric descriptors not written to {self.path}: {error}") from None

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def _add_introducers(connection: sqlite3.Connection) -> None:
    """A file of an earlier version lacks introduced_by: its metrics count as fleet-wide."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(metrics)")}
    if "introduced_by" not in columns:
        connection.execute("ALTER TABLE metrics ADD COLUMN introduced_by TEXT NOT NULL DEFAULT ''")
