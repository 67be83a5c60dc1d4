"""The store interface: what ingest writes and the forecast engine reads.

Kept small so the durable embedded store and a remote TSDB can sit behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


@dataclass
class SampleBatch:
    """A batch's samples as columns, the form ingest hands the store: series i's samples
    are timestamps_ms[ends[i-1]:ends[i]] and values[ends[i-1]:ends[i]] (ends[-1] taken
    as 0), in the order sent. No object per series: a batch is mostly series of one sample.

    `slots` are the memory store's numbers for the series (-1 where not known yet); the
    memory store fills them in as it appends, and the durable log maps them to its ids.
    """

    keys: Sequence[SeriesKey]
    ends: np.ndarray  # int64, cumulative
    timestamps_ms: np.ndarray  # int64
    values: np.ndarray  # float64
    slots: np.ndarray | None = None  # int64, one per series

    @classmethod
    def of_writes(cls, writes: list[SeriesWrite]) -> SampleBatch:
        if not writes:
            return cls([], np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0))
        ends = np.cumsum([len(write.timestamps_ms) for write in writes], dtype=np.int64)
        return cls([write.key for write in writes], ends,
                   np.concatenate([write.timestamps_ms for write in writes]).astype(np.int64, copy=False),
                   np.concatenate([write.values for write in writes]).astype(np.float64, copy=False))

    def span(self, position: int) -> tuple[int, int]:
        """Where series `position`'s samples start and end in the columns."""
        return (int(self.ends[position - 1]) if position else 0), int(self.ends[position])

    def counts(self) -> np.ndarray:
        """Samples of each series."""
        return counts_of(self.ends)

    def writes(self) -> list[SeriesWrite]:
        """One write per series (views of the columns), for stores that take them."""
        bounds = [0, *self.ends.tolist()]
        return [SeriesWrite(key, self.timestamps_ms[start:end], self.values[start:end])
                for key, start, end in zip(self.keys, bounds[:-1], bounds[1:], strict=True)]


def counts_of(ends: np.ndarray) -> np.ndarray:
    """Per series, from where each ends (np.diff's prepend costs more than a small batch)."""
    counts = ends.copy()
    counts[1:] -= ends[:-1]
    return counts


class CommitFailed(Exception):
    """The store could not make a write durable (a full disk, an I/O error): nothing of it
    was stored, and the same write may be sent again later."""


@dataclass(frozen=True)
class AppendResult:
    stored: int
    skipped: int
    # A staged append's samples taken into memory, per series, built only when called
    # (StagingStore.commit needs them if the commit fails, which is rare); none otherwise.
    taken: Callable[[], list[tuple[SeriesKey, np.ndarray]]] = field(
        default=lambda: [], repr=False, compare=False)


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

    def append_to_memory(self, batch: SampleBatch) -> AppendResult:
        """The in-memory part of append, in the caller's thread."""
        ...

    async def commit(self, batch: SampleBatch, staged: AppendResult) -> None:
        """Make the batch durable (`staged`: what append_to_memory answered for it);
        raise CommitFailed if it could not be."""
        ...
