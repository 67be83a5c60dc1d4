import asyncio

import numpy as np

from infracast.server.selector import parse_selector
from infracast.server.series import SeriesKey
from infracast.server.store.base import SeriesWrite
from infracast.server.store.memory import MemoryStore

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


def test_retention_and_sample_cap_bound_memory():
    store = MemoryStore(retention_ms=10_000, max_samples=5)
    write(store, list(range(1000, 31000, 1000)), list(range(30)))
    window = store.window(KEY)
    assert len(window.timestamps_ms) == 5
    assert window.timestamps_ms[-1] == 30000
    store = MemoryStore(retention_ms=3_000, max_samples=1000)
    write(store, list(range(1000, 31000, 1000)), list(range(30)))
    assert store.window(KEY).timestamps_ms.tolist() == [27000, 28000, 29000, 30000]


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
