"""Finding a batch's series keys, as sent, among those a stream sent before, in a kernel.

The known key forms sit end to end in one byte array (`stored`, entry e at
stored[starts[e]:ends[e]]), indexed by an open-addressing table of entry numbers (-1:
empty) keyed on a 64-bit FNV-1a hash of the bytes. A hit is confirmed by comparing the
bytes whole: equal hashes alone never make two keys the same.
"""

from __future__ import annotations

import numpy as np

from infracast.server.forecast.jit import kernel

EMPTY = -1
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@kernel
def key_hashes(data: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """FNV-1a of each span's bytes: data uint8, spans int64 (n, 2) [start, end); uint64 (n,)."""
    hashes = np.empty(len(spans), dtype=np.uint64)
    for row in range(len(spans)):
        value = _FNV_OFFSET
        for at in range(spans[row, 0], spans[row, 1]):
            value = (value ^ np.uint64(data[at])) * _FNV_PRIME
        hashes[row] = value
    return hashes


@kernel
def _same_bytes(data: np.ndarray, start: int, end: int, stored: np.ndarray, stored_start: int,
                stored_end: int) -> bool:
    if end - start != stored_end - stored_start:
        return False
    for offset in range(end - start):  # noqa: SIM110 (numba compiles loops, not generators)
        if data[start + offset] != stored[stored_start + offset]:
            return False
    return True


@kernel
def find_keys(data: np.ndarray, spans: np.ndarray, table: np.ndarray, entry_hashes: np.ndarray,
              stored: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The entry of each span's bytes, or EMPTY where they are not stored.

    Parameters
    ----------
    data : uint8, a request's bytes; spans : int64 (n, 2), its key forms [start, end).
    table : int64 (power of two,), entries by hash (EMPTY: a free place; at least one).
    entry_hashes : uint64 (entries,); stored : uint8; starts, ends : int64 (entries,).
    """
    hashes = key_hashes(data, spans)
    mask = np.uint64(len(table) - 1)
    found = np.empty(len(spans), dtype=np.int64)
    for row in range(len(spans)):
        place = hashes[row] & mask
        found[row] = EMPTY
        while table[place] != EMPTY:
            entry = table[place]
            if entry_hashes[entry] == hashes[row] and _same_bytes(
                    data, spans[row, 0], spans[row, 1], stored, starts[entry], ends[entry]):
                found[row] = entry
                break
            place = (place + np.uint64(1)) & mask
    return found


@kernel
def insert_entries(table: np.ndarray, entry_hashes: np.ndarray, first: int) -> None:
    """Put entries first.. (all of entry_hashes from `first` on) into the table, which has
    room for them (kept at most half full)."""
    mask = np.uint64(len(table) - 1)
    for entry in range(first, len(entry_hashes)):
        place = entry_hashes[entry] & mask
        while table[place] != EMPTY:
            place = (place + np.uint64(1)) & mask
        table[place] = entry
