"""Compressed chunks of one series' samples (Gorilla-style), in numba kernels.

A sample chunk is bytes: a 22-byte header (mode, decimal scale, count, first and last
timestamp, little-endian) and a bit stream, most significant bit first.

- Timestamps: the first is in the header; then the first delta and each delta of
  deltas (regular scrapes give 0, one bit) as zigzag integers in variable-width
  buckets.
- Values, whichever of two is smaller for the chunk:
  - decimal: when every value is a decimal with at most 9 digits after the point
    (node metrics are: counters of bytes, CPU seconds in hundredths, load averages),
    the integers value * 10**scale, first raw, then their deltas or deltas of deltas
    (counters), in the same buckets, divided by their greatest common divisor (memory
    moves in 4096-byte pages). Exact: int / 10**scale gives back the same float.
  - xor: the float bits XOR the previous value's, with the leading / trailing zero
    window of Gorilla (any float, NaN and infinities included).

A bucket chunk (memory only, the 5-minute aggregates) holds consecutive buckets' counts
and means; the means are quantised to 2**-18 of the chunk's largest distance from its
first mean (see encode_buckets), close enough for a forecast over days.

Everything round-trips bit for bit except bucket means. The kernels release the GIL.
"""

from __future__ import annotations

import numpy as np

from infracast.server.forecast.jit import kernel

HEADER_BYTES = 22
MODE_XOR = 0
MODE_DELTA = 1  # decimal integers, deltas
MODE_DELTA2 = 2  # decimal integers, deltas of deltas
MAX_SCALE = 9
BUCKET_HEADER_BYTES = 12  # count u16, exponent i16, first mean f64
MEAN_BITS = 18

# Variable-width buckets for zigzag integers: a unary prefix picks the width.
_WIDTHS = np.array([0, 5, 9, 13, 20, 32, 64], dtype=np.int64)


# Bit writing: the stream lives in a uint8 array; state is (array, bit position).

@kernel
def _put_bits(out, position, value, width):
    """Write the low `width` bits of value (uint64) at bit `position`, a byte at a time;
    return the new position. `out` is zeroed beforehand."""
    remaining = width
    while remaining > 0:
        offset = position & 7
        take = min(8 - offset, remaining)
        bits = (value >> np.uint64(remaining - take)) & np.uint64((1 << take) - 1)
        out[position >> 3] |= np.uint8(bits << np.uint64(8 - offset - take))
        position += take
        remaining -= take
    return position


@kernel
def _get_bits(data, position, width):
    value = np.uint64(0)
    remaining = width
    while remaining > 0:
        offset = position & 7
        take = min(8 - offset, remaining)
        bits = (np.uint64(data[position >> 3]) >> np.uint64(8 - offset - take)) & np.uint64((1 << take) - 1)
        value = (value << np.uint64(take)) | bits
        position += take
        remaining -= take
    return value, position


@kernel
def _zigzag(value):
    return np.uint64((value << 1) ^ (value >> 63))


@kernel
def _unzigzag(value):
    return np.int64(value >> np.uint64(1)) ^ -np.int64(value & np.uint64(1))


@kernel
def _bucket(zz, widths):
    """The index of the smallest bucket that holds the zigzag integer zz."""
    last = len(widths) - 1
    for index in range(last):
        if zz < (np.uint64(1) << np.uint64(widths[index])):
            return index
    return last


@kernel
def _varint_bits(value, widths):
    """How many bits _put_varint writes for value: its prefix and its bucket."""
    index = _bucket(_zigzag(value), widths)
    return index + (1 if index < len(widths) - 1 else 0) + widths[index]


@kernel
def _put_varint(out, position, value, widths):
    """A signed integer in the smallest bucket that holds its zigzag form."""
    zz = _zigzag(value)
    index = _bucket(zz, widths)
    # prefix: index ones, then a zero (none after the last bucket's ones)
    for _ in range(index):
        out[position >> 3] |= np.uint8(0x80 >> (position & 7))
        position += 1
    if index < len(widths) - 1:
        position += 1
    return _put_bits(out, position, zz, widths[index])


@kernel
def _get_varint(data, position, widths):
    index = 0
    last = len(widths) - 1
    while index < last:
        bit = (data[position >> 3] >> (7 - (position & 7))) & 1
        position += 1
        if bit == 0:
            break
        index += 1
    zz, position = _get_bits(data, position, widths[index])
    return _unzigzag(zz), position


@kernel
def _step(ints, i, order):
    """Delta (order 1) or delta of deltas (order 2; the first step a delta) at i >= 1."""
    if order == 1 or i == 1:
        return ints[i] - ints[i - 1]
    return (ints[i] - ints[i - 1]) - (ints[i - 1] - ints[i - 2])


@kernel
def _unstep(ints, i, step, order):
    """Set ints[i] from ints[:i] and the step _step took there: its inverse."""
    if order == 1 or i == 1:
        ints[i] = ints[i - 1] + step
    else:
        ints[i] = ints[i - 1] + (ints[i - 1] - ints[i - 2]) + step


@kernel
def _put_steps(out, position, ints, order, widths):
    """The steps of ints from ints[1] on, each a variable-width integer."""
    for i in range(1, len(ints)):
        position = _put_varint(out, position, _step(ints, i, order), widths)
    return position


@kernel
def _get_steps(data, position, n, order, widths, out):
    """Fill out[1:n] from their steps, out[0] being set; the inverse of _put_steps."""
    for i in range(1, n):
        step, position = _get_varint(data, position, widths)
        _unstep(out, i, step, order)
    return position


@kernel
def _put_ints(out, position, ints, order, widths):
    """ints[0] raw, then deltas (order 1) or deltas of deltas (order 2) from ints[1] on."""
    position = _put_bits(out, position, np.uint64(ints[0]), 64)
    return _put_steps(out, position, ints, order, widths)


@kernel
def _get_ints(data, position, n, order, widths, out):
    raw, position = _get_bits(data, position, 64)
    out[0] = np.int64(raw)
    return _get_steps(data, position, n, order, widths, out)


@kernel
def _packed_width(ints, order):
    widest = np.uint64(0)
    for i in range(2, len(ints)):
        widest = max(widest, _zigzag(_step(ints, i, order)))
    return 64 - _leading_zeros(widest)


@kernel
def _put_packed(out, position, ints, widths):
    """ints[0] raw, the first delta, then every further delta (or delta of deltas, for a
    counter's means: whichever is narrower) in one width, that of the widest: noisy means
    cost about the bits of their steps, without a per-value prefix."""
    order = 1 if _packed_width(ints, 1) <= _packed_width(ints, 2) else 2
    width = _packed_width(ints, order)
    position = _put_bits(out, position, np.uint64(order), 2)
    position = _put_bits(out, position, np.uint64(width), 7)
    position = _put_bits(out, position, np.uint64(ints[0]), 64)
    if len(ints) > 1:
        position = _put_varint(out, position, ints[1] - ints[0], widths)
    for i in range(2, len(ints)):
        position = _put_bits(out, position, _zigzag(_step(ints, i, order)), width)
    return position


@kernel
def _get_packed(data, position, n, widths, out):
    order, position = _get_bits(data, position, 2)
    width, position = _get_bits(data, position, 7)
    raw, position = _get_bits(data, position, 64)
    out[0] = np.int64(raw)
    if n > 1:
        delta, position = _get_varint(data, position, widths)
        _unstep(out, 1, delta, order)
    for i in range(2, n):
        zz, position = _get_bits(data, position, np.int64(width))
        _unstep(out, i, _unzigzag(zz), order)
    return position


@kernel
def _int_bits(ints, order, widths):
    """How many bits _put_ints would write."""
    total = 64
    for i in range(1, len(ints)):
        total += _varint_bits(_step(ints, i, order), widths)
    return total


@kernel
def _decimal_scale(values):
    """The smallest scale s such that every value is int / 10**s exactly, or -1."""
    for scale in range(MAX_SCALE + 1):
        power = 10.0 ** scale
        exact = True
        for value in values:
            if not np.isfinite(value) or (value == 0.0 and np.signbit(value)):
                return -1
            scaled = np.round(value * power)
            if abs(scaled) >= 9007199254740992.0 or scaled / power != value:
                exact = False
                break
        if exact:
            return scale
    return -1


@kernel
def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


@kernel
def _leading_zeros(x):
    count = 0
    for shift in range(63, -1, -1):
        if (x >> np.uint64(shift)) & np.uint64(1):
            break
        count += 1
    return count


@kernel
def _trailing_zeros(x):
    count = 0
    for shift in range(64):
        if (x >> np.uint64(shift)) & np.uint64(1):
            break
        count += 1
    return count


@kernel
def _put_xor_floats(out, position, bits):
    position = _put_bits(out, position, bits[0], 64)
    leading, trailing = 65, 0  # no window yet
    for i in range(1, len(bits)):
        x = bits[i] ^ bits[i - 1]
        if x == 0:
            position += 1  # '0': same value
            continue
        lz = min(_leading_zeros(x), 63)
        tz = _trailing_zeros(x)
        if leading <= 63 and lz >= leading and tz >= trailing:
            position = _put_bits(out, position, np.uint64(2), 2)  # '10': the previous window
            position = _put_bits(out, position, x >> np.uint64(trailing), 64 - leading - trailing)
        else:
            leading, trailing = lz, tz
            width = 64 - lz - tz
            position = _put_bits(out, position, np.uint64(3), 2)  # '11': a new window
            position = _put_bits(out, position, np.uint64(lz), 6)
            position = _put_bits(out, position, np.uint64(width - 1), 6)
            position = _put_bits(out, position, x >> np.uint64(tz), width)
    return position


@kernel
def _get_xor_floats(data, position, n, out_bits):
    value, position = _get_bits(data, position, 64)
    out_bits[0] = value
    leading, trailing = 0, 0
    for i in range(1, n):
        control, position = _get_bits(data, position, 1)
        if control == 0:
            out_bits[i] = out_bits[i - 1]
            continue
        control, position = _get_bits(data, position, 1)
        if control == 1:
            lz, position = _get_bits(data, position, 6)
            width, position = _get_bits(data, position, 6)
            leading = np.int64(lz)
            trailing = 64 - leading - (np.int64(width) + 1)
        meaningful, position = _get_bits(data, position, 64 - leading - trailing)
        out_bits[i] = out_bits[i - 1] ^ (meaningful << np.uint64(trailing))
    return position


@kernel
def _put_le(out, offset, value, size):
    for i in range(size):
        out[offset + i] = np.uint8((value >> np.uint64(8 * i)) & np.uint64(0xFF))


@kernel
def _get_le(data, offset, size):
    value = np.uint64(0)
    for i in range(size):
        value |= np.uint64(data[offset + i]) << np.uint64(8 * i)
    return value


@kernel
def encode_samples(timestamps, values):
    """One chunk (uint8 array) of n >= 1 samples, timestamps sorted ascending (ms)."""
    n = len(timestamps)
    widths = _WIDTHS
    out = np.zeros(HEADER_BYTES + 20 * n + 32, dtype=np.uint8)
    scale = _decimal_scale(values)
    mode = MODE_XOR
    ints = np.empty(n, dtype=np.int64)
    divisor = np.int64(1)
    if scale >= 0:
        power = 10.0 ** scale
        divisor = np.int64(0)
        for i in range(n):
            ints[i] = np.int64(np.round(values[i] * power))
            divisor = _gcd(divisor, abs(ints[i] - ints[0]))
        divisor = max(divisor, np.int64(1))
        for i in range(1, n):  # steps of a common factor (4096-byte pages) in units of it
            ints[i] = ints[0] + (ints[i] - ints[0]) // divisor
        mode = MODE_DELTA if _int_bits(ints, 1, widths) <= _int_bits(ints, 2, widths) else MODE_DELTA2
    out[0] = mode
    out[1] = max(scale, 0)
    _put_le(out, 2, np.uint64(n), 4)
    _put_le(out, 6, np.uint64(timestamps[0]), 8)
    _put_le(out, 14, np.uint64(timestamps[n - 1]), 8)
    position = _put_steps(out, HEADER_BYTES * 8, timestamps, 2, widths)  # the first is in the header
    if mode == MODE_XOR:
        xor_end = _put_xor_floats(out, position, values.view(np.uint64))
        return out[: (xor_end + 7) >> 3].copy()
    position = _put_varint(out, position, divisor, widths)
    position = _put_ints(out, position, ints, 1 if mode == MODE_DELTA else 2, widths)
    return out[: (position + 7) >> 3].copy()


@kernel
def sample_count(chunk):
    return np.int64(_get_le(chunk, 2, 4))


@kernel
def first_timestamp(chunk):
    return np.int64(_get_le(chunk, 6, 8))


@kernel
def last_timestamp(chunk):
    return np.int64(_get_le(chunk, 14, 8))


@kernel
def decode_samples_into(chunk, timestamps, values):
    """Decode a chunk into the front of the two arrays; return its sample count."""
    widths = _WIDTHS
    mode = chunk[0]
    scale = np.int64(chunk[1])
    n = np.int64(_get_le(chunk, 2, 4))
    timestamps[0] = np.int64(_get_le(chunk, 6, 8))
    position = _get_steps(chunk, HEADER_BYTES * 8, n, 2, widths, timestamps)
    if mode == MODE_XOR:
        _get_xor_floats(chunk, position, n, values[:n].view(np.uint64))
        return n
    ints = np.empty(n, dtype=np.int64)
    divisor, position = _get_varint(chunk, position, widths)
    _get_ints(chunk, position, n, 1 if mode == MODE_DELTA else 2, widths, ints)
    power = 10.0 ** scale
    for i in range(n):
        values[i] = (ints[0] + (ints[i] - ints[0]) * divisor) / power
    return n


@kernel
def decode_samples(chunk):
    n = np.int64(_get_le(chunk, 2, 4))
    timestamps = np.empty(n, dtype=np.int64)
    values = np.empty(n, dtype=np.float64)
    decode_samples_into(chunk, timestamps, values)
    return timestamps, values


@kernel
def decode_many(chunks_data, offsets):
    """Decode chunks laid end to end in one array (chunk i at offsets[i]:offsets[i+1]),
    concatenated in order."""
    total = 0
    for i in range(len(offsets) - 1):
        total += np.int64(_get_le(chunks_data, offsets[i] + 2, 4))
    timestamps = np.empty(total, dtype=np.int64)
    values = np.empty(total, dtype=np.float64)
    at = 0
    for i in range(len(offsets) - 1):
        at += decode_samples_into(chunks_data[offsets[i]: offsets[i + 1]], timestamps[at:], values[at:])
    return timestamps, values


@kernel
def encode_buckets(means, counts):
    """Consecutive buckets: counts (u16 range) and means (any value where count is 0).

    Means are stored as round((mean - first) / 2**e) with 2**e about 2**-18 of the
    largest |mean - first| in the chunk: the error is at most half a step, relative to how
    far the series moved within the chunk rather than to its level, so a slow counter's
    rate survives as well as a gauge's shape.
    """
    n = len(means)
    widths = _WIDTHS
    out = np.zeros(BUCKET_HEADER_BYTES + 28 * n + 32, dtype=np.uint8)
    base = 0.0
    for i in range(n):
        if counts[i] > 0:
            base = means[i]
            break
    spread = 0.0
    for i in range(n):
        if counts[i] > 0:
            spread = max(spread, abs(means[i] - base))
    exponent = 0
    if spread > 0.0 and np.isfinite(spread):
        exponent = np.int64(np.floor(np.log2(spread))) - MEAN_BITS
    step = 2.0 ** exponent
    quantised = np.empty(n, dtype=np.int64)
    previous = 0
    for i in range(n):
        if counts[i] > 0 and np.isfinite(means[i]):
            previous = np.int64(np.round((means[i] - base) / step))
        quantised[i] = previous  # empty buckets repeat the last: a delta of 0
    _put_le(out, 0, np.uint64(n), 2)
    _put_le(out, 2, np.uint64(exponent & 0xFFFF), 2)
    _put_le(out, 4, np.array([base]).view(np.uint64)[0], 8)
    count_ints = counts.astype(np.int64)
    position = BUCKET_HEADER_BYTES * 8
    position = _put_ints(out, position, count_ints, 1, widths)
    position = _put_packed(out, position, quantised, widths)
    return out[: (position + 7) >> 3].copy()


@kernel
def decode_buckets(chunk):
    """(means, counts) of a bucket chunk; means of empty buckets are meaningless."""
    widths = _WIDTHS
    n = np.int64(_get_le(chunk, 0, 2))
    exponent = np.int64(_get_le(chunk, 2, 2))
    if exponent >= 32768:
        exponent -= 65536
    base = np.array([_get_le(chunk, 4, 8)]).view(np.float64)[0]
    position = BUCKET_HEADER_BYTES * 8
    counts = np.empty(n, dtype=np.int64)
    position = _get_ints(chunk, position, n, 1, widths, counts)
    quantised = np.empty(n, dtype=np.int64)
    _get_packed(chunk, position, n, widths, quantised)
    step = 2.0 ** exponent
    means = np.empty(n, dtype=np.float64)
    for i in range(n):
        means[i] = base + quantised[i] * step
    return means, counts


@kernel
def decode_many_buckets(data, offsets):
    """decode_buckets of blocks laid end to end (block i at offsets[i]:offsets[i+1]),
    concatenated in order: one call for a series' whole history."""
    total = 0
    for i in range(len(offsets) - 1):
        total += np.int64(_get_le(data, offsets[i], 2))
    means = np.empty(total, dtype=np.float64)
    counts = np.empty(total, dtype=np.int64)
    at = 0
    for i in range(len(offsets) - 1):
        block_means, block_counts = decode_buckets(data[offsets[i]: offsets[i + 1]])
        n = len(block_means)
        means[at: at + n] = block_means
        counts[at: at + n] = block_counts
        at += n
    return means, counts


def warm_up_store_kernels() -> None:
    """Load every kernel above with the array types the stores pass (read-only bytes for
    decoding), so no append, read or compaction loads one later (see warm_up.py)."""
    times = 1_700_000_000_000 + 10_000 * np.arange(200, dtype=np.int64)
    offsets = np.zeros(2, dtype=np.int64)
    for values in (np.arange(200) / 100, np.sin(np.arange(200.0))):  # decimal and xor modes
        chunk = np.frombuffer(encode_samples(times, values).tobytes(), dtype=np.uint8)
        offsets[1] = len(chunk)
        decode_samples(chunk)
        decode_many(chunk, offsets)
        sample_count(chunk)
        first_timestamp(chunk)
        last_timestamp(chunk)
    counts = np.full(96, 30, dtype=np.int64)
    block = np.frombuffer(encode_buckets(np.sin(np.arange(96.0)), counts).tobytes(), dtype=np.uint8)
    offsets[1] = len(block)
    decode_buckets(block)
    decode_many_buckets(block, offsets)
