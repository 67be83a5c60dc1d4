"""A Push request's bytes turned into store writes without protobuf objects.

The numbers are read by a numba kernel (wire_kernels.py); each series' key is looked up
by its exact bytes in the stream's KnownKeys (another kernel, key_kernels.py), so a
series the stream already wrote costs a hash and a compare of its bytes, not a parse, a
label dict and its validation, nor a Python object. Requests the kernel
does not read (a hello, a field it does not know, anything malformed) are parsed by
protobuf and checked by push_validation.decode_batch, the reference for every rule.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import overload

import numpy as np
from google.protobuf.message import DecodeError

from infracast.server.errors import InvalidArgument
from infracast.server.series import SeriesKey
from infracast.server.services.descriptor_validation import DescriptorLimits, checked_descriptors
from infracast.server.services.key_kernels import EMPTY, find_keys, insert_entries, key_hashes
from infracast.server.services.push_validation import (
    DecodedBatch,
    IngestLimits,
    check_samples,
    decode_batch,
    key_of,
    parsed_request,
    series_at,
    validated_key,
    without_gaps,
)
from infracast.server.services.wire_kernels import READ, read_push_batch
from infracast.server.store.base import counts_of
from infracast.v1 import ingest_pb2, series_pb2

_UINT64 = 1 << 64


class SentKeys(Sequence[SeriesKey]):
    """A batch's series keys without a list made per batch: those its stream knew by
    their KnownKeys entry, the others as `resolve`d (all are before the batch is stored)."""

    __slots__ = ("_entries", "_known", "_resolved")

    def __init__(self, entries: np.ndarray, known: list[SeriesKey]) -> None:
        self._entries = entries  # KnownKeys entries, -1 for a form not known
        self._known = known  # KnownKeys' list: only ever appended to (forgetting replaces it)
        self._resolved: dict[int, SeriesKey] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @overload
    def __getitem__(self, position: int) -> SeriesKey: ...

    @overload
    def __getitem__(self, position: slice) -> list[SeriesKey]: ...

    def __getitem__(self, position: int | slice) -> SeriesKey | list[SeriesKey]:
        if isinstance(position, slice):
            return [self[at] for at in range(len(self))[position]]
        entry = self._entries[position]
        return self._known[entry] if entry >= 0 else self._resolved[position]

    def unknown(self) -> list[int]:
        """Positions of the forms the stream did not know."""
        return np.flatnonzero(self._entries < 0).tolist()

    def resolve(self, position: int, key: SeriesKey) -> None:
        self._resolved[position] = key


class KnownKeys:
    """The series a stream has written, by the exact bytes it sends their keys as: each
    one's key and, once the memory store holds it, its slot there (-1 before).

    Per stream, so an entry was checked against that stream's node. Found by a kernel
    (key_kernels.find_keys) that compares the bytes whole, never only their hash.
    Bounded: a stream that keeps sending new byte forms starts over once it reaches
    `capacity` entries.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._forget()

    def _forget(self) -> None:
        self._keys: list[SeriesKey] = []
        self._slots = np.empty(0, dtype=np.int64)
        self._stored = np.empty(0, dtype=np.uint8)  # the forms' bytes, end to end
        self._starts = np.empty(0, dtype=np.int64)
        self._ends = np.empty(0, dtype=np.int64)
        self._hashes = np.empty(0, dtype=np.uint64)
        self._table = np.full(8, EMPTY, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._keys)

    def load_kernels(self, request: np.ndarray) -> None:
        """Call each kernel once (with arrays of the types they get: `request` as
        read_batch makes it), so they are loaded or compiled."""
        no_spans = np.empty((0, 2), dtype=np.int64)
        self.lookup(request, no_spans)
        key_hashes(self._stored, no_spans)
        insert_entries(self._table, self._hashes, 0)

    def lookup(self, data: np.ndarray, spans: np.ndarray) -> tuple[SentKeys, np.ndarray]:
        """The keys of the forms sent (given as spans [start, end) of a request's bytes),
        those not known left to resolve, and their slots (-1 where not known)."""
        entries = find_keys(data, spans, self._table, self._hashes, self._stored, self._starts, self._ends)
        known = entries >= 0
        slots = np.full(len(entries), -1, dtype=np.int64)
        slots[known] = self._slots[entries[known]]
        return SentKeys(entries, self._keys), slots

    def learn(self, decoded: DecodedBatch, held: Callable[[SeriesKey], bool] = lambda key: True) -> None:
        """The key bytes first seen in a stored batch: those of series the store holds."""
        samples = decoded.samples
        slots = samples.slots
        forms: dict[bytes, tuple[SeriesKey, int]] = {}
        for wire, position in decoded.learned:
            key = samples.keys[position]
            slot = -1 if slots is None else int(slots[position])
            if slot >= 0 or held(key):
                forms.setdefault(wire, (key, slot))
        if not forms:
            return
        if len(self) + len(forms) > self.capacity:
            self._forget()
        learned = list(forms.items())[: self.capacity]
        first = len(self._keys)
        self._keys.extend(key for _, (key, _) in learned)
        self._slots = np.concatenate([self._slots, [slot for _, (_, slot) in learned]]).astype(np.int64)
        lengths = np.array([len(wire) for wire, _ in learned], dtype=np.int64)
        ends = len(self._stored) + np.cumsum(lengths)
        new_bytes = np.frombuffer(b"".join(wire for wire, _ in learned), dtype=np.uint8)
        self._stored = np.concatenate([self._stored, new_bytes])
        self._starts = np.concatenate([self._starts, ends - lengths])
        self._ends = np.concatenate([self._ends, ends])
        own_spans = np.stack([ends - lengths, ends], axis=1)
        self._hashes = np.concatenate([self._hashes, key_hashes(self._stored, own_spans)])
        if 2 * len(self._keys) > len(self._table):  # at most half full, so probes stay short
            size = 2 * len(self._table)
            while 2 * len(self._keys) > size:
                size *= 2
            self._table = np.full(size, EMPTY, dtype=np.int64)
            first = 0
        insert_entries(self._table, self._hashes, first)


def load_kernels() -> None:
    """Load (or compile) the kernels read_batch and KnownKeys call, with the argument
    types they get (np.frombuffer makes read-only arrays of request bytes)."""
    request = np.frombuffer(b"", dtype=np.uint8)
    read_push_batch(request)
    KnownKeys(capacity=1).load_kernels(request)


def read_batch(data: bytes, node: str, limits: IngestLimits, known: KnownKeys,
               now_ms: int | None = None,
               held: Callable[[SeriesKey], bool] = lambda key: False) -> tuple[int, DecodedBatch]:
    """(sequence, writes) of a serialized PushRequest that must hold a batch.

    Raises InvalidArgument as push_validation.decode_batch does, for the same series and
    rule, and for a request that does not decode, a hello, or a sequence of 0. A batch
    with a field the kernel does not read (one added to the proto later, say) takes the
    protobuf path below, where the parsed Batch is at hand.
    """
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    status, sequence, spans, time_ends, value_ends, times, values = \
        read_push_batch(np.frombuffer(data, dtype=np.uint8))
    decoded = _decoded(data, sequence % _UINT64, spans, time_ends, value_ends, times, values,
                       node, limits, known, now_ms, held) if status == READ else None
    if decoded is not None:
        return sequence % _UINT64, decoded
    # Descriptors only come this way: the kernel declines a batch that carries them.
    batch = _parsed_batch(data)
    # Names as long as the server allows its series' metric names, or the series would be
    # stored and their descriptors refused.
    descriptor_limits = DescriptorLimits(max_metric_name_length=limits.max_metric_name_length)
    descriptors = checked_descriptors(batch.metrics, f"batch {batch.sequence}", descriptor_limits) \
        if batch.metrics else []
    decoded = decode_batch(batch, node, limits, now_ms, held)
    decoded.descriptors = descriptors
    return batch.sequence, decoded


def _parsed_batch(data: bytes) -> ingest_pb2.Batch:
    request = parsed_request(data)
    if request.WhichOneof("message") is None:
        raise InvalidArgument("after the hello, each message must hold a batch; this one is empty")
    if request.WhichOneof("message") != "batch":
        raise InvalidArgument("hello may be sent only once, as the first message")
    _check_sequence(request.batch.sequence)
    return request.batch


def _check_sequence(sequence: int) -> None:
    if sequence == 0:
        raise InvalidArgument("batch.sequence must be 1 or more: an ack of 0 means nothing is stored yet")


def _decoded(data: bytes, sequence: int, spans: np.ndarray, time_ends: np.ndarray,
             value_ends: np.ndarray, times: np.ndarray, values: np.ndarray, node: str,
             limits: IngestLimits, known: KnownKeys, now_ms: int,
             held: Callable[[SeriesKey], bool]) -> DecodedBatch | None:
    """The batch as decode_batch would return it; None if a key does not parse (protobuf
    then words the error for the whole request, as it would have)."""
    keys, slots = known.lookup(np.frombuffer(data, dtype=np.uint8), spans)
    unknown = keys.unknown()
    wire = {position: data[spans[position, 0]: spans[position, 1]] for position in unknown}
    sent: dict[int, series_pb2.SeriesKey] = {}
    try:
        for position in unknown:
            sent[position] = series_pb2.SeriesKey.FromString(wire[position])
    except DecodeError:
        return None
    _check_sequence(sequence)

    def where_of(position: int) -> Callable[[], str]:
        message = sent.get(position) or series_pb2.SeriesKey.FromString(
            data[spans[position, 0]: spans[position, 1]])
        return partial(series_at, sequence, position, message)

    # Series in order, as decode_batch goes: a bad key before the first series whose counts
    # differ is named first. Known keys were checked when they were learned.
    differing = np.flatnonzero(time_ends != value_ends)  # the first differing end is the series
    checked_until = int(differing[0]) if len(differing) else len(keys)
    new_keys: list[SeriesKey] = []
    for position in unknown:
        if position > checked_until:
            break
        key = key_of(sent[position], node, where_of(position))
        if not held(key):
            key = validated_key(key, sent[position], where_of(position), limits)
            new_keys.append(key)
        keys.resolve(position, key)
    if len(differing):
        times_sent, values_sent = counts_of(time_ends)[checked_until], counts_of(value_ends)[checked_until]
        raise InvalidArgument(f"{where_of(checked_until)()}: {times_sent} timestamps "
                              f"but {values_sent} values")
    check_samples(times, values, time_ends, now_ms, limits, where_of)
    samples, gaps = without_gaps(keys, times, values, time_ends)
    samples.slots = slots
    stored_counts = counts_of(samples.ends) if unknown else samples.ends
    learned = [(wire[position], position) for position in unknown if stored_counts[position]]
    return DecodedBatch(samples, gaps, new_keys, learned)
