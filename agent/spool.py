"""Unacknowledged batches on disk, so they survive an agent restart (or kill -9).

A small SQLite file (WAL, synchronous=NORMAL: a killed process loses nothing the
OS already has) holds every batch until the server acknowledges it. The shipper
keeps the same batches in memory; the spool is only read back at start-up.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from infracast.v1 import ingest_pb2


class Spool:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "spool.sqlite"
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batches (sequence INTEGER PRIMARY KEY, payload BLOB NOT NULL)")

    def load(self) -> list[ingest_pb2.Batch]:
        """Every batch still waiting for an acknowledgement, oldest first."""
        rows = self._db.execute("SELECT payload FROM batches ORDER BY sequence").fetchall()
        return [ingest_pb2.Batch.FromString(payload) for (payload,) in rows]

    def add(self, batch: ingest_pb2.Batch) -> None:
        self._db.execute("INSERT OR REPLACE INTO batches VALUES (?, ?)",
                         (batch.sequence, batch.SerializeToString()))

    def remove_through(self, sequence: int) -> None:
        self._db.execute("DELETE FROM batches WHERE sequence <= ?", (sequence,))

    def remove(self, sequence: int) -> None:
        self._db.execute("DELETE FROM batches WHERE sequence = ?", (sequence,))

    def close(self) -> None:
        self._db.close()
