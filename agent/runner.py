"""Run every collector once per tick, timing each and reporting its success.

A collector that raises is logged and reported as node_scrape_collector_success 0;
the other collectors' samples are still sent (as node_exporter does). NoData (the host
has nothing for that family) is reported the same way but only logged at debug level.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from infracast.agent.collectors.base import Collector, NoData, Sample

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tick:
    timestamp_ms: int
    samples: list[Sample]
    failed: list[str]


def sample_collectors(collectors: Sequence[Collector], clock=time.time) -> Tick:
    timestamp_ms = int(clock() * 1000)
    samples: list[Sample] = []
    failed: list[str] = []
    for collector in collectors:
        started = time.perf_counter()
        try:
            samples.extend(collector.collect())
            success = 1.0
        except NoData as why:
            log.debug("collector %s: %s", collector.name, why)
            success = 0.0
        except Exception as error:
            log.warning("collector %s failed: %s", collector.name, error)
            failed.append(collector.name)
            success = 0.0
        labels = {"collector": collector.name}
        samples.append(Sample("node_scrape_collector_success", success, labels))
        samples.append(Sample(
            "node_scrape_collector_duration_seconds", time.perf_counter() - started, labels
        ))
    return Tick(timestamp_ms, samples, failed)
