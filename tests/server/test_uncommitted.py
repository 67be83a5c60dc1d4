"""The samples of failed commits kept apart (store/uncommitted.py), on real SampleBatches."""

import numpy as np

from infracast.server.series import SeriesKey
from infracast.server.store.base import AppendResult, SampleBatch, SeriesWrite
from infracast.server.store.uncommitted import UncommittedSamples

A, B = (SeriesKey.of("probe", {"node": node}) for node in "ab")


def batch(*series: tuple[SeriesKey, list[int]]) -> SampleBatch:
    return SampleBatch.of_writes([SeriesWrite(key, np.array(times, dtype=np.int64), np.ones(len(times)))
                                  for key, times in series])


def test_a_resend_counts_each_held_sample_once_even_when_sent_twice_in_it():
    kept = UncommittedSamples()
    kept.add([(A, np.array([1000, 2000], dtype=np.int64))])
    # Memory skipped all three (two held, one a repeat within the write): two become durable.
    resend = batch((A, [1000, 2000, 2000]))
    assert kept.recount(resend, AppendResult(0, 3)) == AppendResult(2, 1)


def test_committed_samples_are_forgotten_and_others_kept():
    kept = UncommittedSamples()
    kept.add([(A, np.array([1000, 2000], dtype=np.int64)), (B, np.array([1000], dtype=np.int64))])
    kept.committed(batch((A, [1000]), (B, [1000])))
    assert kept.recount(batch((A, [1000, 2000])), AppendResult(0, 2)) == AppendResult(1, 1)
    assert kept.recount(batch((B, [1000])), AppendResult(0, 1)) == AppendResult(0, 1)


def test_past_its_bound_the_oldest_entries_go():
    kept = UncommittedSamples(max_samples=3)
    kept.add([(A, np.array([1000, 2000], dtype=np.int64))])
    kept.add([(B, np.array([1000, 2000], dtype=np.int64))])
    assert kept.recount(batch((A, [1000, 2000])), AppendResult(0, 2)) == AppendResult(0, 2)
    assert kept.recount(batch((B, [1000, 2000])), AppendResult(0, 2)) == AppendResult(2, 0)
