"""The protobuf wire format of a Push request holding a batch, walked in a numba kernel.

A batch is mostly packed numbers: per SeriesSamples a key (bytes the caller maps to a
series, see wire_batch.py), packed varint timestamps and packed fixed64 values. Reading
them here, off the GIL, into columnar arrays costs a few nanoseconds a sample instead of
protobuf's Python lists.

The kernel reads only the shape the generated encoders write (PushRequest{batch} with
fields in any order, each SeriesSamples with at most one key, one packed timestamps and
one packed values field). Anything else, valid or not (unpacked repeated numbers, a field
it does not know, a truncated or malformed message), is answered with NOT_READ, and the
caller parses the request with protobuf instead: that path decides what is valid and
words the errors, so the fast path never accepts what protobuf would refuse.
"""

from __future__ import annotations

import numpy as np

from infracast.server.forecast.jit import kernel

READ = 0
NOT_READ = 1

# Tags (field number << 3 | wire type) of the fields read; all fit in one byte.
_PUSH_BATCH = (2 << 3) | 2
_BATCH_SEQUENCE = (1 << 3) | 0
_BATCH_SERIES = (2 << 3) | 2
_SAMPLES_KEY = (1 << 3) | 2
_SAMPLES_TIMES = (2 << 3) | 2
_SAMPLES_VALUES = (3 << 3) | 2

_NO_FIELD = -1


@kernel
def _varint(data: np.ndarray, at: int, end: int) -> tuple[int, int]:
    """(value as uint64 bits in an int64, position after it); position -1 if malformed."""
    value = np.uint64(0)
    shift = np.uint64(0)
    for _ in range(10):
        if at >= end:
            return 0, -1
        byte = data[at]
        at += 1
        value |= np.uint64(byte & 0x7F) << shift
        if byte < 0x80:
            return int(np.int64(value)), at
        shift += np.uint64(7)
    return 0, -1  # longer than 10 bytes


@kernel
def _span(data: np.ndarray, at: int, end: int) -> tuple[int, int]:
    """A length-delimited field's body at `at` (after its tag): (start, end) or (-1, -1)."""
    length, start = _varint(data, at, end)
    if start < 0 or length < 0 or length > end - start:
        return -1, -1
    return start, start + length


@kernel
def _samples_fields(data: np.ndarray, start: int, end: int) -> tuple[int, int, int, int, int, int]:
    """The key, timestamps and values spans of one SeriesSamples (-1 for a field not
    sent); all -2 if it is not of the shape read here."""
    key_start = key_end = times_start = times_end = values_start = values_end = _NO_FIELD
    at = start
    while at < end:
        tag = data[at]
        field_start, field_end = _span(data, at + 1, end)
        if field_start < 0:
            return -2, -2, -2, -2, -2, -2
        if tag == _SAMPLES_KEY and key_start == _NO_FIELD:
            key_start, key_end = field_start, field_end
        elif tag == _SAMPLES_TIMES and times_start == _NO_FIELD:
            times_start, times_end = field_start, field_end
        elif tag == _SAMPLES_VALUES and values_start == _NO_FIELD \
                and (field_end - field_start) % 8 == 0:
            values_start, values_end = field_start, field_end
        else:
            return -2, -2, -2, -2, -2, -2
        at = field_end
    return key_start, key_end, times_start, times_end, values_start, values_end


@kernel
def _packed_varint_count(data: np.ndarray, start: int, end: int) -> int:
    """How many varints fill [start, end) exactly; -1 if one is too long or the last is cut."""
    count = 0
    run = 0  # continuation bytes in a row: a varint has at most 9
    for at in range(start, end):
        if data[at] < 0x80:
            count += 1
            run = 0
        else:
            run += 1
            if run > 9:
                return -1
    if run:
        return -1
    return count


@kernel
def read_push_batch(data: np.ndarray) -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray,
                                                    np.ndarray, np.ndarray]:
    """Read a serialized PushRequest holding a batch.

    Parameters
    ----------
    data : uint8 array, the request's bytes.

    Returns
    -------
    status : READ, or NOT_READ (then the other results are empty: parse with protobuf).
    sequence : the batch's sequence number (uint64 bits).
    key_spans : int64 (n_series, 2), each series' SeriesKey bytes as [start, end) of data
        ([0, 0) when the series sent no key).
    time_ends, value_ends : int64 (n_series,), where each series' timestamps and values end
        in the two sample arrays (a series may send more of one than of the other).
    timestamps_ms : int64 (sum of timestamps,), values : float64 (sum of values,).
    """
    empty = np.empty(0, dtype=np.int64)
    nothing = (NOT_READ, 0, np.empty((0, 2), dtype=np.int64), empty, empty, empty,
               np.empty(0, dtype=np.float64))
    end = len(data)
    if end == 0 or data[0] != _PUSH_BATCH:
        return nothing
    batch_start, batch_end = _span(data, 1, end)
    if batch_start < 0 or batch_end != end:  # another field after the batch: protobuf decides
        return nothing

    # First pass: check the shape and count, so the arrays are allocated once.
    sequence = 0
    n_series = 0
    n_times = 0
    n_values = 0
    at = batch_start
    while at < batch_end:
        tag = data[at]
        if tag == _BATCH_SEQUENCE:
            sequence, at = _varint(data, at + 1, batch_end)
            if at < 0:
                return nothing
            continue
        if tag != _BATCH_SERIES:
            return nothing
        series_start, series_end = _span(data, at + 1, batch_end)
        if series_start < 0:
            return nothing
        fields = _samples_fields(data, series_start, series_end)
        if fields[0] == -2:
            return nothing
        if fields[2] != _NO_FIELD:
            count = _packed_varint_count(data, fields[2], fields[3])
            if count < 0:
                return nothing
            n_times += count
        if fields[4] != _NO_FIELD:
            n_values += (fields[5] - fields[4]) // 8
        n_series += 1
        at = series_end

    # Second pass: fill.
    key_spans = np.zeros((n_series, 2), dtype=np.int64)
    time_ends = np.empty(n_series, dtype=np.int64)
    value_ends = np.empty(n_series, dtype=np.int64)
    timestamps = np.empty(n_times, dtype=np.int64)
    values = np.empty(n_values, dtype=np.float64)
    value_bits = values.view(np.uint64)
    series = 0
    times_at = 0
    values_at = 0
    at = batch_start
    while at < batch_end:
        if data[at] == _BATCH_SEQUENCE:
            _, at = _varint(data, at + 1, batch_end)
            continue
        series_start, series_end = _span(data, at + 1, batch_end)
        key_start, key_end, times_start, times_end, values_start, values_end = \
            _samples_fields(data, series_start, series_end)
        if key_start != _NO_FIELD:
            key_spans[series, 0] = key_start
            key_spans[series, 1] = key_end
        if times_start != _NO_FIELD:
            place = times_start
            while place < times_end:
                timestamp, place = _varint(data, place, times_end)
                timestamps[times_at] = timestamp
                times_at += 1
        if values_start != _NO_FIELD:
            for place in range(values_start, values_end, 8):  # little-endian float64 bits
                bits = np.uint64(0)
                for byte in range(8):
                    bits |= np.uint64(data[place + byte]) << np.uint64(8 * byte)
                value_bits[values_at] = bits
                values_at += 1
        time_ends[series] = times_at
        value_ends[series] = values_at
        series += 1
        at = series_end
    return READ, sequence, key_spans, time_ends, value_ends, timestamps, values
