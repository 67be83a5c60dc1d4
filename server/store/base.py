"""The store interface: what ingest writes and the forecast engine reads.

Kept small so the durable embedded store and a remote TSDB can sit behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from infracast.server.selector import Selector
from infracast.server.series import SeriesKey


class SeriesWrite(NamedTuple):
    """Samples of one series to append; timestamps in ms, values float64, same length.

    A named tuple rather than a frozen dataclass: ingest makes one per series of every
    batch, and a frozen dataclass costs three times as much to make."""

    key: SeriesKey
    timestamps_ms: np.ndarray
    values: np.ndarray


class CommitFailed(Exception):
    """The store could not make a write durable (a full disk, an I/O error): nothing of it
    was stored, and the same write may be sent again later."""


@dataclass(frozen=True)
class AppendResult:
    stored: int
    skipped: int
    # A staged append's samples taken into memory, per series (StagingStore.commit needs
    # them if the commit fails); empty otherwise.
    taken: list[tuple[SeriesKey, np.ndarray]] = field(default_factory=list, repr=False, compare=False)


@dataclass(frozen=True)
class SeriesSummary:
    key: SeriesKey
    sample_count: int
    first_timestamp_ms: int
    last_timestamp_ms: int
    last_value: float


@dataclass(frozen=True)
class Window:
    """A series' recent samples, oldest first."""

    key: SeriesKey
    timestamps_ms: np.ndarray
    values: np.ndarray


class Store(Protocol):
    async def append(self, writes: list[SeriesWrite]) -> AppendResult:
        """Store samples; return only once they are stored. Idempotent on (series, timestamp)."""
        ...

    def select(self, selector: Selector) -> list[SeriesKey]:
        """Series whose key matches the selector, sorted."""
        ...

    def summary(self, key: SeriesKey) -> SeriesSummary | None: ...

    def has_series(self, key: SeriesKey) -> bool: ...

    def node_series_count(self, node: str) -> int:
        """How many series carry this node label."""
        ...

    @property
    def series_count(self) -> int: ...

    def window(self, key: SeriesKey) -> Window | None:
        """Recent samples of one series (a copy the caller may keep)."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class StagingStore(Protocol):
    """A store whose append splits in two, so that ingest can do the first part in the
    worker thread that decoded the batch (one thread hop per batch instead of two)."""

    def append_to_memory(self, writes: list[SeriesWrite]) -> AppendResult:
        """The in-memory part of append, in the caller's thread."""
        ...

    async def commit(self, writes: list[SeriesWrite], staged: AppendResult) -> None:
        """Make the writes durable (`staged`: what append_to_memory answered for them);
        raise CommitFailed if they could not be."""
        ...
