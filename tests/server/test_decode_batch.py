"""decode_batch checks a whole batch's samples at once yet names the series at fault."""

import numpy as np
import pytest

from infracast.server.errors import InvalidArgument
from infracast.server.series import SeriesKey
from infracast.server.services.push_validation import IngestLimits, decode_batch
from infracast.v1 import ingest_pb2, series_pb2

NOW_MS = 1_800_000_000_000


def batch(*series: tuple[str, list[int], list[float]]) -> ingest_pb2.Batch:
    return ingest_pb2.Batch(sequence=7, series=[
        series_pb2.SeriesSamples(key=series_pb2.SeriesKey(metric=metric, labels={"i": str(i)}),
                                 timestamps_ms=times, values=values)
        for i, (metric, times, values) in enumerate(series)])


def test_each_series_gets_its_own_samples_and_gaps_are_dropped():
    decoded = decode_batch(batch(("a", [NOW_MS - 2000, NOW_MS - 1000], [1.0, 2.0]),
                                 ("b", [NOW_MS], [float("nan")]),
                                 ("c", [NOW_MS - 500, NOW_MS], [3.0, float("nan")])), "n1", now_ms=NOW_MS)
    assert [str(w.key) for w in decoded.writes] == ['a{i="0",node="n1"}', 'b{i="1",node="n1"}',
                                                    'c{i="2",node="n1"}']
    assert [w.timestamps_ms.tolist() for w in decoded.writes] == [[NOW_MS - 2000, NOW_MS - 1000], [],
                                                                  [NOW_MS - 500]]
    assert [w.values.tolist() for w in decoded.writes] == [[1.0, 2.0], [], [3.0]]
    assert decoded.gaps == 2
    assert decoded.new_keys == [w.key for w in decoded.writes]


@pytest.mark.parametrize("times, values, says", [
    ([NOW_MS + 3_600_000], [1.0], "series 2 (c): a timestamp is 3600s in the future; at most 600s"),
    ([NOW_MS - 20 * 86_400_000], [1.0], "series 2 (c): a timestamp is older than the retention of 14 days"),
    ([0], [1.0], "series 2 (c): timestamps must be positive"),
    ([NOW_MS], [float("inf")], "series 2 (c): values must be finite"),
])
def test_the_first_series_at_fault_is_named_with_the_rule_and_its_limit(times, values, says):
    bad = batch(("a", [NOW_MS], [1.0]), ("b", [NOW_MS - 1000, NOW_MS], [1.0, 2.0]), ("c", times, values),
                ("d", [NOW_MS + 7_200_000], [1.0]))
    with pytest.raises(InvalidArgument, match="batch 7, " + says.replace("(", r"\(").replace(")", r"\)")):
        decode_batch(bad, "n1", IngestLimits(), now_ms=NOW_MS)


def test_series_the_store_holds_are_not_new():
    held = {SeriesKey.of("a", {"i": "0", "node": "n1"})}
    decoded = decode_batch(batch(("a", [NOW_MS], [1.0]), ("b", [NOW_MS], [2.0])), "n1",
                           now_ms=NOW_MS, held=held.__contains__)
    assert decoded.new_keys == [SeriesKey.of("b", {"i": "1", "node": "n1"})]
    assert np.array_equal(decoded.writes[0].values, [1.0])


def test_a_series_of_another_node_is_refused_even_when_held():
    held = {SeriesKey.of("a", {"i": "0", "node": "n2"})}
    sent = ingest_pb2.Batch(sequence=1, series=[series_pb2.SeriesSamples(
        key=series_pb2.SeriesKey(metric="a", labels={"i": "0", "node": "n2"}),
        timestamps_ms=[NOW_MS], values=[1.0])])
    with pytest.raises(InvalidArgument, match="node label 'n2' differs from this stream's node 'n1'"):
        decode_batch(sent, "n1", now_ms=NOW_MS, held=held.__contains__)
