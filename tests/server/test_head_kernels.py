"""The batch append kernel (head_kernels.append_heads) against the Python path it takes
over from: the same batches into a MemoryStore whose kernel defers every series must leave
the same windows, summaries and counts."""

import numpy as np
import pytest

from infracast.server.series import SeriesKey
from infracast.server.store import memory
from infracast.server.store.base import SampleBatch
from infracast.server.store.head_kernels import DEFERRED, NEVER, NO_TIME, append_heads
from infracast.server.store.heads import HEAD_SAMPLES, Heads
from infracast.server.store.memory import BUCKET_MS, MemoryLimits, MemoryStore

KEYS = [SeriesKey.of("m", {"node": "n", "i": str(i)}) for i in range(6)]


def batch(series) -> SampleBatch:
    ends = np.cumsum([len(times) for _, times, _ in series], dtype=np.int64)
    return SampleBatch([key for key, _, _ in series], ends,
                       np.array([t for _, times, _ in series for t in times], dtype=np.int64),
                       np.array([v for _, _, values in series for v in values], dtype=np.float64))


def python_path_only(slots, ends, *rest):
    """append_heads that leaves every series with samples to the Python path."""
    counts = np.diff(ends, prepend=0)
    return np.where(counts > 0, DEFERRED, 0)


def contents(store: MemoryStore) -> dict:
    held = {}
    for key in KEYS:
        window, summary = store.window(key), store.summary(key)
        held[key] = None if window is None else (
            window.timestamps_ms.tolist(), window.values.view(np.int64).tolist(),
            summary.sample_count, summary.first_timestamp_ms, summary.last_timestamp_ms,
            np.float64(summary.last_value).view(np.int64))
    return held


Series = list[tuple[SeriesKey, list[int], list[float]]]


def random_batches(rng: np.random.Generator, rounds: int) -> list[Series]:
    """Mostly one new sample a series a round; sometimes several, late ones, resends,
    duplicates within a series or a series twice in a batch, jumps in time, NaN (ingest
    refuses inf before the store)."""
    clock = {key: 1_000_000 for key in KEYS}
    batches = []
    for _ in range(rounds):
        series = []
        for key in rng.permutation(len(KEYS)).tolist()[: rng.integers(0, len(KEYS) + 1)]:
            key = KEYS[key]
            kind = rng.random()
            if kind < 0.6:
                times = [clock[key] + 10_000]
            elif kind < 0.75:
                times = (clock[key] + 10_000 * np.arange(1, rng.integers(2, 30))).tolist()
            elif kind < 0.85:
                times = (clock[key] - 10_000 * rng.integers(0, 40, size=rng.integers(1, 4))).tolist()
            elif kind < 0.9:
                times = [clock[key] + 10_000, clock[key] + 10_000, clock[key] + 5_000]
            elif kind < 0.95:
                times = [clock[key] + int(rng.integers(1, 4)) * 3_600_000]
            else:
                times = []
            clock[key] = max([clock[key], *times])
            values = rng.choice([1.5, -0.0, np.nan, 2.0**60], size=len(times)).tolist()
            series.append((key, times, values))
            if rng.random() < 0.1:  # the same series again in the same batch
                series.append((key, [clock[key] + 10_000, clock[key]], [7.0, 8.0]))
                clock[key] += 10_000
        batches.append(series)
    return batches


@pytest.mark.parametrize("limits", [
    MemoryLimits(),
    MemoryLimits(raw_window_ms=600_000, downsampled_window_ms=3_600_000, max_raw_samples=50),
    MemoryLimits(raw_window_ms=3_600_000, downsampled_window_ms=7_200_000, max_raw_samples=5),
], ids=["defaults", "short-windows", "tiny-cap"])
@pytest.mark.parametrize("seed", range(4))
def test_the_kernel_stores_what_the_python_path_stores(monkeypatch, limits, seed):
    batches = random_batches(np.random.default_rng(seed), 400)
    with_kernel = MemoryStore(limits)
    results = [(with_kernel.append_batch(batch(series)), contents(with_kernel)) for series in batches]
    monkeypatch.setattr(memory, "append_heads", python_path_only)
    reference = MemoryStore(limits)
    for series, (result, held) in zip(batches, results, strict=True):  # after every batch
        assert reference.append_batch(batch(series)) == result
        assert contents(reference) == held


def test_a_batch_of_one_sample_a_series_is_appended_by_the_kernel_alone(monkeypatch):
    store = MemoryStore()
    store.append_batch(batch([(key, [1000], [1.0]) for key in KEYS]))

    def no_python_path(*args, **kwargs):
        raise AssertionError("a series went the Python path")

    monkeypatch.setattr(memory._SeriesBuffer, "append", no_python_path)
    result = store.append_batch(batch([(key, [2000], [float(i)]) for i, key in enumerate(KEYS)]))
    assert (result.stored, result.skipped) == (len(KEYS), 0)
    assert store.window(KEYS[3]).values.tolist() == [1.0, 3.0]


def heads_with(size: int) -> Heads:
    """Heads of one slot holding `size` samples at 1000, 2000, ..."""
    heads = Heads(capacity=1)
    heads.add()
    heads.times[:size, 0] = 1000 * np.arange(1, size + 1)
    heads.values[:size, 0] = 1.0
    heads.sizes[0] = heads.raw_counts[0] = size
    heads.newest[0] = 1000 * size if size else NO_TIME
    heads.oldest[0] = 1000 if size else 0
    return heads


def append(heads: Heads, slots, ends, times, values, max_raw_samples=10_000) -> list[int]:
    return append_heads(np.array(slots, dtype=np.int64), np.array(ends, dtype=np.int64),
                        np.array(times, dtype=np.int64), np.array(values, dtype=np.float64),
                        heads.times, heads.values, heads.sizes, heads.newest, heads.oldest,
                        heads.floor, heads.raw_counts, heads.trim_after, heads.deferred_in,
                        heads.next_batch(), 6 * 3_600_000, BUCKET_MS, max_raw_samples).tolist()


def test_an_empty_batch_and_a_series_without_samples():
    heads = heads_with(0)
    assert append(heads, [], [], [], []) == []
    assert append(heads, [-1], [0], [], []) == [0]  # no slot: a series without samples has none
    assert heads.sizes[0] == 0 and heads.newest[0] == NO_TIME


def test_one_series_round_trips_its_samples_bit_for_bit():
    heads = heads_with(0)
    values = [1.5, np.nan, -np.inf, -0.0]
    assert append(heads, [0], [4], [10, 20, 30, 40], values) == [4]
    assert heads.times[:4, 0].tolist() == [10, 20, 30, 40]
    assert heads.values[:4, 0].view(np.int64).tolist() == np.array(values).view(np.int64).tolist()
    assert (heads.sizes[0], heads.newest[0], heads.oldest[0], heads.raw_counts[0]) == (4, 40, 10, 4)


def test_out_of_order_duplicates_and_a_series_twice_are_deferred_in_order():
    heads = heads_with(3)
    # Out of order within a series, a duplicate of the newest, then the first series'
    # slot again: deferred too, though it would fit, so the Python path sees both in order.
    outcome = append(heads, [0, 0], [2, 3], [5000, 4500, 6000], [1.0, 2.0, 3.0])
    assert outcome == [DEFERRED, DEFERRED]
    assert append(heads, [0], [1], [3000], [1.0]) == [DEFERRED]  # not newer than the newest
    assert append(heads, [0], [2], [4000, 4000], [1.0, 2.0]) == [DEFERRED]  # a duplicate inside
    assert heads.sizes[0] == 3  # nothing appended


def test_a_head_that_would_fill_exactly_at_the_batch_end_is_left_to_seal():
    heads = heads_with(HEAD_SAMPLES - 3)
    newest = int(heads.newest[0])
    assert append(heads, [0], [2], [newest + 1, newest + 2], [1.0, 2.0]) == [2]  # one left open
    assert append(heads, [0], [1], [newest + 3], [3.0]) == [DEFERRED]  # it would fill: seal first
    assert heads.sizes[0] == HEAD_SAMPLES - 1


def test_samples_the_aggregates_no_longer_take_or_beyond_the_cap_are_deferred():
    heads = heads_with(2)
    heads.floor[0] = 10_000
    assert append(heads, [0], [1], [9_999], [1.0]) == [DEFERRED]
    heads.floor[0] = NO_TIME
    assert append(heads, [0], [1], [3000], [1.0], max_raw_samples=2) == [DEFERRED]
    heads.trim_after[0] = 3500
    assert append(heads, [0], [2], [3000, 4000], [1.0, 1.0]) == [DEFERRED]  # would trim
    heads.trim_after[0] = NEVER
    assert append(heads, [0], [2], [3000, 4000], [1.0, 1.0]) == [2]


def test_heads_keep_their_samples_as_slots_outgrow_the_arrays():
    store = MemoryStore()
    first = [SeriesKey.of("m", {"i": str(i)}) for i in range(50)]
    for t in (1000, 2000, 3000):
        store.append_batch(batch([(key, [t], [float(i)]) for i, key in enumerate(first)]))
    store.append_batch(batch([(key, [4000, 5000], [1.0, 2.0]) for key in first[:3]]))
    more = [SeriesKey.of("m", {"j": str(j)}) for j in range(1000)]  # several doublings
    store.append_batch(batch([(key, [1000], [5.0]) for key in more]))
    assert store.window(first[0]).timestamps_ms.tolist() == [1000, 2000, 3000, 4000, 5000]
    assert store.window(first[0]).values.tolist() == [0.0, 0.0, 0.0, 1.0, 2.0]
    assert store.window(first[49]).values.tolist() == [49.0, 49.0, 49.0]
    assert store.window(more[999]).values.tolist() == [5.0]
