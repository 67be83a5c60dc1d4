"""Evaluate the configured rules every round into series:

- `infracast_time_to_threshold_seconds`: expected time from now until the series crosses
  the rule's threshold; 0 when it already has; +Inf when not within the rule's horizon.
- `infracast_time_to_threshold_earliest_seconds`: the same for the near bound of the
  rule's interval (at level 80, the crossing that comes first with 10 % probability).
- `infracast_threshold_probability{within=...}`: probability of reaching the threshold
  within each `probability_within` window.
- `infracast_forecast{quantile=...,ahead=...}`: the forecast `ahead` from now, its mean as
  quantile 0.5 and the interval's bounds as the lower and upper quantiles.

Each carries the series' own labels plus `rule`. The latest round's values are on
/metrics and, with store=prometheus, remote-written to the TSDB. Of the series a rule
selects, each replica evaluates those it owns (replicas.py).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from infracast.server.answers.predictions import Predictor
from infracast.server.errors import InfracastError
from infracast.server.rules.definitions import Rule, duration_label
from infracast.server.rules.replicas import ReplicaSet
from infracast.server.series import SeriesKey
from infracast.server.store.base import SeriesWrite

log = logging.getLogger(__name__)

CONCURRENT_SERIES = 8

TIME_TO_THRESHOLD = "infracast_time_to_threshold_seconds"
EARLIEST = "infracast_time_to_threshold_earliest_seconds"
PROBABILITY = "infracast_threshold_probability"
FORECAST = "infracast_forecast"
HELP = {
    TIME_TO_THRESHOLD: "Expected seconds until the series crosses the rule's threshold (+Inf: not "
                       "within the horizon, 0: already crossed)",
    EARLIEST: "Seconds until the near bound of the rule's interval crosses the threshold",
    PROBABILITY: "Probability that the series reaches the threshold within `within`",
    FORECAST: "Forecast of the series `ahead` from now, at the given quantile",
}


@dataclass(frozen=True)
class RuleSample:
    metric: str
    labels: tuple[tuple[str, str], ...]  # sorted, the series' own plus rule and the metric's
    value: float


@dataclass
class RoundReport:
    evaluated: int = 0
    skipped: int = 0  # too little history and the like
    not_owned: int = 0
    seconds: float = 0.0


def rule_samples(rule: Rule, key: SeriesKey, answer, now_ms: int) -> list[RuleSample]:
    """The series one rule's answer for one series becomes."""
    base = {**key.label_map, "rule": rule.name}

    def sample(metric: str, value: float, **extra: str) -> RuleSample:
        return RuleSample(metric, tuple(sorted({**base, **extra}.items())), float(value))

    crossing, outlook = answer.crossing, answer.outlook

    def seconds(at_ms: int | None) -> float:
        if crossing.already_crossed:
            return 0.0
        return math.inf if at_ms is None else max(at_ms - now_ms, 0) / 1000

    samples = [sample(TIME_TO_THRESHOLD, seconds(crossing.expected_ms)),
               sample(EARLIEST, seconds(crossing.earliest_ms))]
    exceedance = outlook.exceedance(answer.threshold, rule.rising)
    for within_ms in rule.probability_within_ms:
        inside = outlook.timestamps_ms <= now_ms + within_ms
        probability = (1.0 if crossing.already_crossed else
                       float(exceedance[inside].max()) if inside.any() else 0.0)
        samples.append(sample(PROBABILITY, probability, within=duration_label(within_ms)))
    low_q, high_q = rule.quantiles
    level = answer.level
    times = outlook.timestamps_ms.astype(np.float64)
    for ahead_ms in rule.forecast_at_ms:
        at = now_ms + ahead_ms
        if at > times[-1]:
            continue  # beyond what the history lets the forecast see
        ahead = duration_label(ahead_ms)
        for quantile, path in ((low_q, outlook.lower[level]), (0.5, outlook.mean),
                               (high_q, outlook.upper[level])):
            samples.append(sample(FORECAST, float(np.interp(at, times, path)),
                                  quantile=f"{quantile:g}", ahead=ahead))
    return samples


class RuleEvaluator:
    def __init__(self, rules: list[Rule], predictor: Predictor, replicas: ReplicaSet,
                 interval_s: float, store=None) -> None:
        self.rules = rules
        self._predictor = predictor
        self._replicas = replicas
        self._interval_s = interval_s
        self._store = store  # with store=prometheus, where the results are remote-written
        self.results: dict[str, list[RuleSample]] = {}
        self.last_round = RoundReport()
        self.rounds = 0
        self._tasks: list[asyncio.Task] = []
        self._concurrency = asyncio.Semaphore(CONCURRENT_SERIES)

    def start(self) -> None:
        # Heartbeats have their own loop: a round longer than the replicas' liveness window
        # must not make this replica look gone (its series would then be evaluated twice).
        self._tasks = [asyncio.create_task(self._every_interval(self._replicas.heartbeat, "heartbeat"),
                                           name="replica-heartbeat"),
                       asyncio.create_task(self._evaluate_every_interval(), name="rule-evaluation")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _evaluate_every_interval(self) -> None:
        await asyncio.sleep(0)  # the heartbeat task starts first ...
        while self._replicas.beats == 0 and not self._replicas.failed:
            await asyncio.sleep(0.05)  # ... and the first round waits for the live set it reads
        await self._every_interval(self.evaluate_round, "evaluation round")

    async def _every_interval(self, work, what: str) -> None:
        while True:
            started = time.monotonic()
            try:
                await work()
            except Exception:  # a TSDB outage must not end evaluation for good
                log.exception("rule %s failed", what)
            await asyncio.sleep(max(self._interval_s - (time.monotonic() - started), 0.0))

    async def evaluate_round(self) -> RoundReport:
        started = time.monotonic()
        report = RoundReport()
        now_ms = int(time.time() * 1000)
        results: dict[str, list[RuleSample]] = {}
        for rule in self.rules:
            results[rule.name] = await self._evaluate(rule, now_ms, report)
        self.results = results
        writes = _writes(results, now_ms)
        if self._store is not None and writes:
            await self._store.write_derived(writes)
        report.seconds = time.monotonic() - started
        self.last_round = report
        self.rounds += 1
        log.info("rules evaluated: %d series (%d skipped, %d owned by other replicas) in %.2fs",
                 report.evaluated, report.skipped, report.not_owned, report.seconds)
        return report

    async def _evaluate(self, rule: Rule, now_ms: int, report: RoundReport) -> list[RuleSample]:
        try:
            keys = await asyncio.to_thread(self._predictor.select, rule.selector)
        except InfracastError:  # no series matches (yet)
            return []
        owned = [key for key in keys if self._replicas.owns(key)]
        report.not_owned += len(keys) - len(owned)

        async def evaluate(key: SeriesKey) -> list[RuleSample]:
            async with self._concurrency:  # window reads (TSDB requests) overlap, bounded
                try:
                    answer = await self._predictor.series_threshold(
                        key, rule.threshold, rule.rising, rule.horizon_ms, rule.level, rule.capacity_percent)
                except InfracastError as error:
                    report.skipped += 1
                    log.debug("rule %s: %s skipped: %s", rule.name, key, error)
                    return []
            report.evaluated += 1
            return rule_samples(rule, key, answer, now_ms)

        return [sample for found in await asyncio.gather(*map(evaluate, owned)) for sample in found]


def _writes(results: dict[str, list[RuleSample]], now_ms: int) -> list[SeriesWrite]:
    stamp = np.array([now_ms], dtype=np.int64)
    return [SeriesWrite(SeriesKey(sample.metric, tuple(part for pair in sample.labels for part in pair)),
                        stamp, np.array([sample.value]))
            for samples in results.values() for sample in samples]
