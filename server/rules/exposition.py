"""The latest round of rule results on /metrics, under their own names (a prometheus_client
collector beside OpenTelemetry's, in the same registry), plus how the rounds go."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from infracast.server.rules.evaluator import HELP, RuleEvaluator


class RuleResultsCollector(Collector):
    def __init__(self, evaluator: RuleEvaluator) -> None:
        self._evaluator = evaluator

    def collect(self) -> Iterator[Metric]:
        evaluator = self._evaluator
        by_metric: dict[str, GaugeMetricFamily] = {}
        for samples in list(evaluator.results.values()):
            for sample in samples:
                family = by_metric.get(sample.metric)
                if family is None:
                    family = by_metric[sample.metric] = GaugeMetricFamily(sample.metric, HELP[sample.metric])
                family.add_sample(sample.metric, dict(sample.labels), sample.value)
        yield from by_metric.values()
        report = evaluator.last_round
        series = GaugeMetricFamily("infracast_rule_series", "Series in the last rule round, by outcome",
                                   labels=["outcome"])
        series.add_metric(["evaluated"], report.evaluated)
        series.add_metric(["skipped"], report.skipped)
        series.add_metric(["other_replica"], report.not_owned)
        yield series
        yield GaugeMetricFamily("infracast_rule_round_duration_seconds", "Duration of the last rule round",
                                value=report.seconds)
        yield CounterMetricFamily("infracast_rule_rounds", "Rule rounds completed", value=evaluator.rounds)
