import asyncio

import numpy as np

from infracast.server.selector import parse_selector
from infracast.server.series import SeriesKey
from infracast.server.store.base import SeriesWrite
from infracast.server.store.memory import BUCKET_MS, HOUR_MS, MemoryLimits, MemoryStore

KEY = SeriesKey.of("node_load1", {"node": "a"})


def write(store, timestamps, values, key=KEY):
    batch = [SeriesWrite(key, np.array(timestamps, dtype=np.int64), np.array(values, dtype=float))]
    return asyncio.run(store.append(batch))


def test_append_and_read_back_in_time_order():
    store = MemoryStore()
    write(store, [3000, 1000, 2000], [3.0, 1.0, 2.0])
    window = store.window(KEY)
    assert window.timestamps_ms.tolist() == [1000, 2000, 3000]
    assert window.values.tolist() == [1.0, 2.0, 3.0]


def test_a_batch_sent_twice_is_stored_once():
    store = MemoryStore()
    first = write(store, [1000, 2000], [1.0, 2.0])
    again = write(store, [1000, 2000], [1.0, 2.0])
    assert (first.stored, first.skipped) == (2, 0)
    assert (again.stored, again.skipped) == (0, 2)
    assert store.summary(KEY).sample_count == 2


def test_late_samples_merge_into_place_and_duplicates_within_a_write_count_once():
    store = MemoryStore()
    write(store, [1000, 3000], [1.0, 3.0])
    result = write(store, [2000, 2000, 4000], [2.0, 9.0, 4.0])
    assert (result.stored, result.skipped) == (2, 1)
    window = store.window(KEY)
    assert window.timestamps_ms.tolist() == [1000, 2000, 3000, 4000]
    assert window.values.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_old_samples_are_folded_into_five_minute_means():
    store = MemoryStore(MemoryLimits(raw_window_ms=600_000, downsampled_window_ms=3_600_000))
    # One sample a minute for 30 minutes: value = minute index.
    write(store, [60_000 * i for i in range(1, 31)], [float(i) for i in range(1, 31)])
    buffer = store._buffer(KEY)
    assert buffer.raw()[0].min() >= 30 * 60_000 - 600_000 - BUCKET_MS
    aggregates = buffer.aggregates
    assert aggregates.first_ms == 0 and aggregates.counts[0] == 4  # minutes 1-4
    assert aggregates.sums[0] / aggregates.counts[0] == 2.5
    window = store.window(KEY)
    assert (np.diff(window.timestamps_ms) > 0).all()
    assert store.summary(KEY).sample_count == 30
    # Resending samples that were already folded stores nothing.
    assert write(store, [60_000, 120_000], [1.0, 2.0]).stored == 0


def test_aggregates_beyond_the_retention_are_dropped_and_raw_samples_are_capped():
    store = MemoryStore(MemoryLimits(raw_window_ms=600_000, downsampled_window_ms=1_800_000,
                                     max_raw_samples=5))
    write(store, [60_000 * i for i in range(1, 121)], [1.0] * 120)
    buffer = store._buffer(KEY)
    assert buffer.raw_count <= 5
    assert buffer.aggregates.first_ms >= 120 * 60_000 - 1_800_000 - BUCKET_MS


def test_growth_keeps_every_sample():
    store = MemoryStore()
    for start in range(0, 1000, 10):
        write(store, [1 + t for t in range(start, start + 10)], [float(t) for t in range(start, start + 10)])
    window = store.window(KEY)
    assert len(window.values) == 1000
    assert np.array_equal(window.values, np.arange(1000.0))


def test_select_and_summary():
    store = MemoryStore()
    other = SeriesKey.of("node_load5", {"node": "a"})
    write(store, [1000, 2000], [0.5, 0.7])
    write(store, [1000], [0.1], key=other)
    assert store.select(parse_selector('{node="a"}')) == [KEY, other]
    assert store.select(parse_selector("node_load5")) == [other]
    summary = store.summary(KEY)
    assert (summary.first_timestamp_ms, summary.last_timestamp_ms, summary.last_value) == (1000, 2000, 0.7)
    assert store.window(SeriesKey.of("missing")) is None


def test_buckets_a_node_was_away_for_hold_no_mean_and_leave_with_the_retention():
    store = MemoryStore(MemoryLimits(raw_window_ms=600_000, downsampled_window_ms=7_200_000))
    minutes = [*range(1, 16), *range(46, 91)]  # away from minute 16 to 45
    write(store, [60_000 * m for m in minutes], [float(m) for m in minutes])
    window = store.window(KEY)
    means = window.timestamps_ms[window.timestamps_ms < 80 * 60_000 - 600_000 - BUCKET_MS]
    # 5-minute means of minutes 1-4 (bucket 0), 5-9, 10-14, 15, then 46-49, ...: none for the gap.
    assert means.tolist()[:5] == [150_000, 450_000, 750_000, 900_000 + 150_000, 2_700_000 + 150_000]
    assert window.values[:4].tolist() == [2.5, 7.0, 12.0, 15.0]
    assert store.summary(KEY).sample_count == len(minutes)
    # Two hours later, only buckets after the gap are left, the first of them holding samples.
    write(store, [60_000 * m for m in range(91, 190)], [1.0] * 99)
    aggregates = store._buffer(KEY).aggregates
    assert aggregates.counts[0] > 0 and aggregates.first_ms >= 189 * 60_000 - 7_200_000 - BUCKET_MS


def test_aggregates_restored_from_the_log_read_as_they_were_written():
    store = MemoryStore(MemoryLimits(raw_window_ms=600_000, downsampled_window_ms=7_200_000))
    starts = np.array([0, 300_000, 2_700_000], dtype=np.int64)  # a gap between the 2nd and 3rd
    store.restore(KEY, starts, np.array([10.0, 20.0, 30.0]), np.array([2, 4, 5]),
                  np.array([3_000_000], dtype=np.int64), np.array([7.0]))
    window = store.window(KEY)
    assert window.timestamps_ms.tolist() == [150_000, 450_000, 2_850_000, 3_000_000]
    assert window.values.tolist() == [5.0, 5.0, 6.0, 7.0]
    assert store.summary(KEY).sample_count == 12 and store.summary(KEY).first_timestamp_ms == 0


def test_a_day_of_scrapes_reads_back_as_exact_raw_samples_and_bucket_means():
    """Enough samples to seal many raw chunks and aggregate blocks: the raw window reads
    back bit for bit, and every older bucket's mean as numpy computes it (to 2**-19 of the
    block's spread), whatever the chunk and block boundaries."""
    limits = MemoryLimits(raw_window_ms=6 * HOUR_MS, downsampled_window_ms=14 * 24 * HOUR_MS)
    store = MemoryStore(limits)
    rng = np.random.default_rng(3)
    times = 1_700_000_000_000 + 10_000 * np.arange(30 * 360, dtype=np.int64) + rng.integers(0, 50, 30 * 360)
    values = np.round(np.cumsum(rng.normal(0, 1, len(times))) + 100, 2)
    for start in range(0, len(times), 7):  # some writes of one sample, some of a few
        step = 1 if start % 2 else 7
        for at in range(start, min(start + 7, len(times)), step):
            write(store, times[at: at + step], values[at: at + step])
    window = store.window(KEY)
    buffer = store._buffer(KEY)
    raw_ts, raw_values = buffer.raw()
    np.testing.assert_array_equal(raw_ts, times[-len(raw_ts):])
    np.testing.assert_array_equal(raw_values, values[-len(raw_ts):])
    assert raw_ts[0] >= times[-1] - 6 * HOUR_MS - BUCKET_MS and len(buffer.chunks) >= 15
    folded = times < raw_ts[0]
    buckets = times[folded] - times[folded] % BUCKET_MS
    starts, index = np.unique(buckets, return_inverse=True)
    means = np.bincount(index, weights=values[folded]) / np.bincount(index)
    assert len(buffer.aggregates.sealed) >= 2
    np.testing.assert_array_equal(window.timestamps_ms[: len(starts)], starts + BUCKET_MS // 2)
    np.testing.assert_allclose(window.values[: len(starts)], means, rtol=0, atol=np.ptp(means) * 2.0 ** -19)
    assert len(window.values) == len(starts) + len(raw_ts)
    assert store.summary(KEY).sample_count == len(times)


def test_resends_and_late_samples_among_sealed_chunks():
    store = MemoryStore()
    times = 10_000 * np.arange(1, 400, dtype=np.int64)
    times = times[times != 1_000_000]  # a gap in the second chunk
    for at in range(len(times)):
        write(store, times[at: at + 1], [float(at)])
    assert len(store._buffer(KEY).chunks) == 3
    again = write(store, times[100:130], np.zeros(30))  # a resend spanning two chunks
    assert (again.stored, again.skipped) == (0, 30)
    late = write(store, [1_000_000, 5], [-1.0, -2.0])
    assert (late.stored, late.skipped) == (2, 0)
    window = store.window(KEY)
    assert len(window.timestamps_ms) == len(times) + 2 and (np.diff(window.timestamps_ms) > 0).all()
    assert window.values[0] == -2.0 and window.values[100] == -1.0 and window.values[-1] == len(times) - 1


def test_the_raw_sample_cap_holds_across_chunks():
    store = MemoryStore(MemoryLimits(max_raw_samples=250))
    write(store, 1000 * np.arange(1, 1001), np.arange(1000.0))
    buffer = store._buffer(KEY)
    assert buffer.raw_count == 250 and buffer.raw()[0][0] == 751_000
    assert store.summary(KEY).sample_count == 1000


def test_taken_lists_what_each_series_stored_whichever_path_appended_it():
    """What a failed commit leaves in memory (EmbeddedStore keeps it apart by `taken`):
    all of a series the head kernel appended, all of one appended out of order, and only
    the new samples of one partly resent."""
    store = MemoryStore()
    in_order, late, resent = (SeriesKey.of("probe", {"node": node}) for node in "abc")
    write(store, [5000], [1.0], key=late)
    write(store, [1000, 2000], [1.0, 2.0], key=resent)
    result = store.append_now([
        SeriesWrite(in_order, np.array([1000, 2000], dtype=np.int64), np.array([1.0, 2.0])),
        SeriesWrite(late, np.array([3000], dtype=np.int64), np.array([3.0])),
        SeriesWrite(resent, np.array([2000, 3000], dtype=np.int64), np.array([2.0, 3.0])),
    ])
    assert (result.stored, result.skipped) == (4, 1)
    taken = {key: times.tolist() for key, times in result.taken()}
    assert taken == {in_order: [1000, 2000], late: [3000], resent: [3000]}
