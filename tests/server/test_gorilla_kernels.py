"""Chunks round-trip bit for bit (bucket means to their stated precision), and node-like
series compress to the sizes the store counts on."""

import numpy as np
import pytest

from infracast.server.store import gorilla_kernels as gk

RNG = np.random.default_rng(7)
N = 720
REGULAR = 1_700_000_000_000 + 10_000 * np.arange(N, dtype=np.int64)


def round_trip(timestamps, values):
    chunk = gk.encode_samples(np.asarray(timestamps, dtype=np.int64), np.asarray(values, dtype=np.float64))
    decoded_ts, decoded = gk.decode_samples(chunk)
    np.testing.assert_array_equal(decoded_ts, timestamps)
    # bit for bit: -0.0, NaN payloads and infinities included
    expected = np.asarray(values, dtype=np.float64)
    np.testing.assert_array_equal(decoded.view(np.uint64), expected.view(np.uint64))
    assert gk.sample_count(chunk) == len(timestamps)
    assert (gk.first_timestamp(chunk), gk.last_timestamp(chunk)) == (timestamps[0], timestamps[-1])
    return chunk


@pytest.mark.parametrize("values", [
    np.full(N, 42.0),                                   # constant
    RNG.random(N),                                      # random floats: the xor mode
    np.cumsum(RNG.integers(0, 10**6, N)).astype(float),  # a byte counter
    np.round(np.cumsum(RNG.random(N)), 2) + 1e5,        # CPU seconds in hundredths
    np.round(RNG.normal(1.5, 0.3, N), 2),               # a load average, signs and all
    RNG.normal(0, 1e300, N),                            # huge
    np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -1.0] * (N // 7) + [1.0] * (N % 7)),
], ids=["constant", "random", "byte-counter", "cpu-seconds", "load", "huge", "special"])
def test_regular_series_round_trip(values):
    round_trip(REGULAR, values)


def test_irregular_times_one_sample_and_two_samples_round_trip():
    jittered = np.cumsum(RNG.integers(1, 100_000, N)).astype(np.int64) - 5 * 10**12  # before 1970 too
    round_trip(jittered, RNG.random(N))
    round_trip(np.array([1000]), np.array([3.25]))
    round_trip(np.array([1000, 1001]), np.array([1.0, 2.0]))
    round_trip(np.array([0, 2**62]), np.array([1.0, 1.5]))  # a jump wider than every bucket but the last


def test_node_like_series_take_a_few_bits_a_sample():
    counter = np.cumsum(RNG.integers(900_000, 1_100_000, N)).astype(float)
    sizes = {
        "constant": len(round_trip(REGULAR, np.full(N, 8.0))),
        "counter": len(round_trip(REGULAR, counter)),
        "load": len(round_trip(REGULAR, np.round(1.5 + 0.1 * np.sin(np.arange(N) / 50), 2))),
        "random": len(round_trip(REGULAR, RNG.random(N))),
    }
    assert sizes["constant"] < gk.HEADER_BYTES + 30 + N // 4  # about two bits a sample
    assert sizes["counter"] < 4 * N  # deltas of about a million: ~20 bits
    assert sizes["load"] < N  # deltas of hundredths: under a byte
    assert sizes["random"] > 6 * N  # incompressible: the xor mode's worst case, but bounded
    assert sizes["random"] < 9 * N


def test_bucket_means_keep_their_precision_and_counts_exactly():
    n = 288
    counts = RNG.integers(0, 40, n)
    counts[:3] = [0, 30, 0]
    means = 1e12 + np.cumsum(RNG.random(n) * 1e5)  # a counter's means: only its growth matters
    chunk = gk.encode_buckets(means, counts)
    decoded, decoded_counts = gk.decode_buckets(chunk)
    np.testing.assert_array_equal(decoded_counts, counts)
    held = counts > 0
    spread = np.abs(means[held] - means[held][0]).max()
    assert np.abs(decoded[held] - means[held]).max() <= spread * 2.0 ** -(gk.MEAN_BITS + 1)
    # a rate between buckets is off by at most one step: here 32 in growths of ~50,000
    step = spread * 2.0 ** -gk.MEAN_BITS
    np.testing.assert_allclose(np.diff(decoded[held]), np.diff(means[held]), atol=step)
    assert len(chunk) < 4 * n


def test_flat_and_single_bucket_chunks():
    decoded, counts = gk.decode_buckets(gk.encode_buckets(np.array([3.5]), np.array([30])))
    assert decoded.tolist() == [3.5] and counts.tolist() == [30]
    decoded, _ = gk.decode_buckets(gk.encode_buckets(np.full(10, -2.0), np.full(10, 1)))
    assert decoded.tolist() == [-2.0] * 10


def test_chunks_laid_end_to_end_decode_in_order():
    first = gk.encode_samples(REGULAR[:10], np.arange(10.0))
    second = gk.encode_samples(REGULAR[10:25], RNG.random(15))
    data = np.concatenate([first, second])
    timestamps, values = gk.decode_many(data, np.array([0, len(first), len(data)], dtype=np.int64))
    np.testing.assert_array_equal(timestamps, REGULAR[:25])
    assert values[:10].tolist() == list(np.arange(10.0))


def test_steps_of_a_common_factor_cost_the_bits_of_the_steps_alone():
    pages = 4096.0 * (2_000_000 + np.cumsum(RNG.integers(-50, 51, N)))
    units = 2_000_000.0 + np.cumsum(RNG.integers(-50, 51, N))
    assert len(round_trip(REGULAR, pages)) <= len(round_trip(REGULAR, units)) + 8
    round_trip(REGULAR, np.array([7.0, 7.0 + 6, 7.0 + 9] * (N // 3)))  # divisor 3, first value not a multiple


# Chunks as this format has written them to disk (samples.sqlite holds them across
# versions): they must decode to the same samples and encode to the same bytes.
WRITTEN_TIMES = np.array([1_700_000_000_000, 1_700_000_010_000, 1_700_000_020_000, 1_700_000_030_001,
                          1_700_000_039_999, 1_700_000_050_000], dtype=np.int64)
WRITTEN = [
    (np.array([100.0, 4196.0, 8292.0, 8292.0, 12388.0, 20580.0]),  # pages of 4096: decimal steps
     "0100060000000068e5cf8b010000502be6cf8b010000f0271021458de02000000000000000006485090a20"),
    (np.array([0.5, -0.0, np.inf, np.nan, 1e-300, 3.25]),  # the xor mode
     "0000060000000068e5cf8b010000502be6cf8b010000f0271021458c7fc00000000000018055ffc02ffff300e0fdf975"
     "b87f0be3cd66835edc3f85f1e6b2"),
]


@pytest.mark.parametrize(("values", "written"), WRITTEN, ids=["decimal", "xor"])
def test_sample_chunks_written_before_decode_and_encode_the_same(values, written):
    timestamps, decoded = gk.decode_samples(np.frombuffer(bytes.fromhex(written), dtype=np.uint8))
    np.testing.assert_array_equal(timestamps, WRITTEN_TIMES)
    np.testing.assert_array_equal(decoded.view(np.uint64), values.view(np.uint64))
    assert gk.encode_samples(WRITTEN_TIMES, values).tobytes().hex() == written


def test_bucket_chunks_written_before_decode_and_encode_the_same():
    written = "0400efff0000000000002440000000000000001e83873878930000000000000000f3000000000e0000"
    means, counts = gk.decode_buckets(np.frombuffer(bytes.fromhex(written), dtype=np.uint8))
    assert counts.tolist() == [30, 29, 0, 30]
    assert means[counts > 0].tolist() == [10.0, 11.5, 13.25]
    assert gk.encode_buckets(np.array([10.0, 11.5, 0.0, 13.25]), np.array([30, 29, 0, 30])).tobytes().hex() \
        == written
