"""Group samples into the Batch message the server stores, one entry per series."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from infracast.agent.collectors.base import Sample
from infracast.v1 import series_pb2

LabelsKey = tuple[tuple[str, str], ...]


class BatchBuilder:
    """Accumulates samples of many series and instants; build() packs them per series."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, LabelsKey], tuple[list[int], list[float]]] = {}
        self.sample_count = 0

    def add_tick(self, timestamp_ms: int, samples: Iterable[Sample]) -> None:
        for sample in samples:
            self.add_points(sample.metric, sample.labels, [timestamp_ms], [sample.value])

    def add_points(
        self, metric: str, labels: Mapping[str, str],
        timestamps_ms: Sequence[int], values: Sequence[float],
    ) -> None:
        key = (metric, tuple(sorted(labels.items())))
        times, vals = self._series.setdefault(key, ([], []))
        times.extend(timestamps_ms)
        vals.extend(values)
        self.sample_count += len(values)

    def build(self) -> list[series_pb2.SeriesSamples]:
        return [
            series_pb2.SeriesSamples(
                key=series_pb2.SeriesKey(metric=metric, labels=dict(labels)),
                timestamps_ms=times,
                values=vals,
            )
            for (metric, labels), (times, vals) in self._series.items()
        ]
