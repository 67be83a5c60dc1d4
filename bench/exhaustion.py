"""Exhaustion answers on scenarios whose truth is known, through the real server.

    python bench/exhaustion.py [--per-family 24] [--seed 7]

Each scenario is a series drawn from a known process (a fast fill at 1 s, a slow fill
at 10 s, bursty fills with periodic clean-ups, a memory leak measured against
MemTotal, flat series, level steps, short histories, counters with resets, a bounded
ratio). Its history up to now is pushed to a real infracast-server over the Push
stream, the question is asked over gRPC (TimeToThreshold with the default 7-day
horizon, as `infracast when` asks it), and the answer is compared with the series'
own future, drawn from the same process. Printed:

  per family   the share of crossings found, the median error of the predicted time
               to crossing relative to the true one, false alarms (probability >= 0.5
               for an event that did not happen), and the mean probability;
  calibration  the Brier score of "reaches the threshold within the time the answer
               looked at" over all scenarios, and a reliability table: for answers
               given probability p, how often the event happened;
  stability    for bursty fills re-evaluated hourly, how far the predicted moment of
               "full" moves, relative to how far away it is;
  limits       forecasts (mean and 95 % bounds) outside the physical limits: must be 0.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_process import start_server

from infracast.clients.client import InfracastClient
from infracast.v1 import ingest_pb2, ingest_pb2_grpc, series_pb2

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
HORIZON = "7d"
GiB = 2.0**30


@dataclass
class Scenario:
    family: str
    metric: str
    labels: dict[str, str]
    times: np.ndarray  # history and future, ms; the last history sample is at index `now`
    values: np.ndarray
    now: int
    threshold: float | str  # a number, or "N%" of capacity
    falling: bool
    siblings: dict[str, float]  # sibling metric -> constant value (capacity)
    capacity: float | None = None

    @property
    def level(self) -> float:
        if isinstance(self.threshold, str):
            assert self.capacity is not None
            return self.capacity * float(self.threshold[:-1]) / 100
        return self.threshold

    def true_crossing_ms(self, within_ms: float) -> float | None:
        """When the future first reaches the threshold (None: not within within_ms)."""
        future = slice(self.now + 1, None)
        t, v = self.times[future], self.values[future]
        if self.metric.endswith("_total"):  # the question is about the rate
            rate = np.diff(self.values[self.now:]) / (np.diff(self.times[self.now:]) / 1000)
            v = rate
        hit = v <= self.level if self.falling else v >= self.level
        hit &= t - self.times[self.now] <= within_ms
        return float(t[np.argmax(hit)] - self.times[self.now]) if hit.any() else None


def _timeline(step_ms: int, history_ms: int, future_ms: int, end_ms: int) -> tuple[np.ndarray, int]:
    n_hist = history_ms // step_ms + 1
    n_future = future_ms // step_ms
    times = end_ms - step_ms * (n_hist - 1) + step_ms * np.arange(n_hist + n_future, dtype=np.int64)
    return times, n_hist - 1


def make_scenarios(per_family: int, rng: np.random.Generator, end_ms: int) -> list[Scenario]:
    out: list[Scenario] = []
    fs = lambda i, fam: {"node": f"{fam}-{i}", "mountpoint": "/", "device": "vda1"}  # noqa: E731
    for i in range(per_family):
        # Fast fill at 1 s: 300 MB, 0.3-1.5 MiB/s, 30 minutes of history.
        times, now = _timeline(SECOND, 30 * MINUTE, 3 * HOUR, end_ms)
        size = 300e6
        rate = rng.uniform(0.3, 1.5) * 2**20 * rng.choice([1.0, 0.15])  # some fill too slowly to matter
        start = rng.uniform(0.75, 1.0) * size
        noise = rng.normal(0, rng.uniform(0.001, 0.01) * size, len(times))
        avail = np.clip(start - rate * (times - times[0]) / 1000 + noise, 0, size)
        out.append(Scenario("fast_fill_1s", "node_filesystem_avail_bytes", fs(i, "fast"), times, avail, now,
                            0.0, True, {"node_filesystem_size_bytes": size}, size))
        # Slow fill at 10 s with a day of history: full in 1-12 days.
        times, now = _timeline(10 * SECOND, DAY, 10 * DAY, end_ms)
        size = 100 * GiB
        days_left = rng.uniform(1, 12)
        start = rng.uniform(0.2, 0.6) * size
        walk = np.cumsum(rng.normal(0, 2e-4 * size, len(times)) / np.sqrt(len(times) / 100))
        avail = np.clip(start - start / (days_left * DAY) * (times - times[now]) + walk - walk[now], 0, size)
        out.append(Scenario("slow_fill_10s", "node_filesystem_avail_bytes", fs(i, "slow"), times, avail, now,
                            0.0, True, {"node_filesystem_size_bytes": size}, size))
        # Bursty fill with clean-ups every 10 h, 1-minute samples, 3 days of history.
        times, now = _timeline(MINUTE, 3 * DAY, 8 * DAY, end_ms)
        out.append(_bursty(i, times, now, rng))
        # Memory leak: MemAvailable falls towards 10 % of MemTotal, 10 s samples, 6 hours.
        times, now = _timeline(10 * SECOND, 6 * HOUR, 2 * DAY, end_ms)
        total = 16 * GiB
        leak = rng.uniform(0.0, 1.2) * GiB / HOUR
        base = rng.uniform(0.4, 0.8) * total
        avail = np.clip(base - leak * (times - times[0]) + rng.normal(0, 0.02 * total, len(times)), 0, total)
        out.append(Scenario("memory_leak", "node_memory_MemAvailable_bytes", {"node": f"leak-{i}"}, times,
                            avail, now, "10%", True, {"node_memory_MemTotal_bytes": total}, total))
        # Flat: a disk at a steady level with noise; never full.
        times, now = _timeline(10 * SECOND, 6 * HOUR, 7 * DAY, end_ms)
        size = 50 * GiB
        avail = rng.uniform(0.05, 0.9) * size + rng.normal(0, 0.003 * size, len(times))
        out.append(Scenario("flat", "node_filesystem_avail_bytes", fs(i, "flat"), times, avail, now,
                            0.0, True, {"node_filesystem_size_bytes": size}, size))
        # Step: a big file written once some hours ago, then flat.
        times, now = _timeline(10 * SECOND, 6 * HOUR, 7 * DAY, end_ms)
        level = rng.uniform(0.3, 0.9) * size
        step_at = now - rng.integers(360, 1800)
        avail = level - np.where(np.arange(len(times)) >= step_at, rng.uniform(0.1, 0.25) * size, 0)
        avail = avail + rng.normal(0, 0.002 * size, len(times))
        out.append(Scenario("step_change", "node_filesystem_avail_bytes", fs(i, "step"), times, avail, now,
                            0.0, True, {"node_filesystem_size_bytes": size}, size))
        # Short history: 90 s of a rising load; the truth hours later is unknowable from it.
        times, now = _timeline(SECOND, 90 * SECOND, 6 * HOUR, end_ms)
        load = 1 + 0.02 * np.arange(len(times)) * rng.uniform(0.5, 1.5)
        load = np.minimum(load, 1 + 0.02 * 90 * 1.5) + rng.normal(0, 0.1, len(times))
        out.append(Scenario("short_history", "node_load1", {"node": f"short-{i}"}, times, load, now,
                            20.0, False, {}))
        # Counter with resets: a steady rate; asking when it triples (it never does).
        times, now = _timeline(10 * SECOND, 6 * HOUR, 2 * DAY, end_ms)
        rate = rng.uniform(1e5, 1e7)
        increments = rate * 10 * rng.lognormal(0, 0.1, len(times))
        counter = np.cumsum(increments)
        for reset in rng.integers(0, now, 2):
            counter[reset:] -= counter[reset] - increments[reset]
        out.append(Scenario("counter_resets", "node_network_receive_bytes_total",
                            {"node": f"ctr-{i}", "device": "eth0"}, times, counter, now, 3 * rate, False, {}))
        # Bounded ratio: CPU utilisation creeping up to saturation.
        times, now = _timeline(10 * SECOND, 6 * HOUR, 2 * DAY, end_ms)
        creep = rng.uniform(0.0, 0.02) / HOUR
        ratio = np.clip(0.5 + creep * (times - times[0]) + rng.normal(0, 0.03, len(times)), 0, 1)
        out.append(Scenario("bounded_ratio", "infracast_node_cpu_utilization_ratio", {"node": f"ratio-{i}"},
                            times, ratio, now, 0.95, False, {}))
    return out


def _bursty(i: int, times: np.ndarray, now: int, rng: np.random.Generator) -> Scenario:
    size = 550 * GiB
    hours = (times - times[0]) / HOUR
    used = 350 * GiB + rng.uniform(0.3, 1.5) * GiB * hours + rng.normal(0, 0.05 * GiB, len(times))
    used += np.where(rng.random(len(times)) < 0.002, rng.uniform(2, 8, len(times)) * GiB, 0).cumsum()
    used -= (hours // 10) * rng.uniform(2, 6) * GiB
    labels = {"node": f"bursty-{i}", "mountpoint": "/data", "device": "vdb"}
    avail = np.clip(size - used, 0, size)
    return Scenario("bursty_cleanups", "node_filesystem_avail_bytes", labels, times, avail,
                    now, 0.0, True, {"node_filesystem_size_bytes": size}, size)


def push(stub, node: str, metric: str, labels: dict[str, str], times, values) -> None:
    batches = []
    for start in range(0, len(times), 5000):
        batches.append(series_pb2.SeriesSamples(
            key=series_pb2.SeriesKey(metric=metric, labels=labels),
            timestamps_ms=[int(t) for t in times[start:start + 5000]],
            values=[float(v) for v in values[start:start + 5000]]))
    requests = [ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node=node, agent_id=f"bench-{node}"))]
    requests += [ingest_pb2.PushRequest(batch=ingest_pb2.Batch(sequence=k + 1, series=[b]))
                 for k, b in enumerate(batches)]
    for _ in stub.Push(iter(requests), timeout=60):
        pass


def feed(stub, s: Scenario, upto: int) -> None:
    node = s.labels["node"]
    push(stub, node, s.metric, s.labels, s.times[:upto + 1], s.values[:upto + 1])
    for metric, value in s.siblings.items():
        push(stub, node, metric, s.labels, s.times[upto - 1:upto + 1], [value, value])


def selector(s: Scenario) -> str:
    return s.metric + "{" + ",".join(f'{k}="{v}"' for k, v in s.labels.items()) + "}"


def reliability(probabilities: np.ndarray, outcomes: np.ndarray) -> list[tuple[str, int, float, float]]:
    edges = [0.0, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 1.0001]
    rows = []
    for low, high in itertools.pairwise(edges):
        inside = (probabilities >= low) & (probabilities < high)
        if inside.any():
            rows.append((f"{low:.2f}-{min(high, 1):.2f}", int(inside.sum()),
                         float(probabilities[inside].mean()), float(outcomes[inside].mean())))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-family", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    process, address = start_server("--max-series-per-agent", "100000", "--rate-limit", "100000",
                                     "--rate-limit-burst", "100000")
    try:
        end_ms = int(time.time() * 1000) - MINUTE
        scenarios = make_scenarios(args.per_family, rng, end_ms)
        channel = grpc.insecure_channel(address, options=[("grpc.max_send_message_length", 64 << 20)])
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        with InfracastClient(address, timeout_s=120) as client:
            rows = [evaluate(client, stub, s) for s in scenarios]
            report(rows)
            stability(client, stub, rng, end_ms)
            limit_violations(client, scenarios)
    finally:
        process.terminate()
        process.wait(30)


@dataclass
class Result:
    family: str
    probability: float
    happened: bool
    predicted_s: float | None
    true_s: float | None
    searched_s: float
    refused: bool


def evaluate(client: InfracastClient, stub, s: Scenario) -> Result:
    feed(stub, s, s.now)
    try:
        answer = client.time_to_threshold(selector(s), s.threshold, falling=s.falling, horizon=HORIZON)
    except Exception as error:  # too little history is an answer too, and is counted
        if "not enough history" not in str(error):
            raise
        return Result(s.family, 0.0, False, None, None, 0.0, True)
    truth = s.true_crossing_ms(answer.searched_s * 1000)
    predicted = 0.0 if answer.already_crossed else answer.time_remaining_s
    return Result(s.family, answer.probability, truth is not None, predicted,
                  None if truth is None else truth / 1000, answer.searched_s, False)


def report(rows: list[Result]) -> None:
    print(f"{'family':18s}{'n':>4s}{'crossed':>9s}{'found':>7s}{'median |err|':>14s}{'false alarms':>14s}"
          f"{'mean p':>8s}{'looked (median)':>17s}")
    for family in dict.fromkeys(r.family for r in rows):
        group = [r for r in rows if r.family == family and not r.refused]
        crossed = [r for r in group if r.happened]
        found = [r for r in crossed if r.predicted_s is not None]
        errors = [abs(r.predicted_s - r.true_s) / max(r.true_s, 60) for r in found]
        false = [r for r in group if not r.happened and r.probability >= 0.5]
        refused = sum(r.refused for r in rows if r.family == family)
        print(f"{family:18s}{len(group):4d}{len(crossed):9d}{len(found):7d}"
              f"{(f'{np.median(errors):.1%}' if errors else '-'):>14s}{len(false):14d}"
              f"{np.mean([r.probability for r in group]) if group else 0:8.2f}"
              f"{np.median([r.searched_s for r in group]) / 3600 if group else 0:15.1f} h"
              + (f"  ({refused} refused: not enough history)" if refused else ""))
    answered = [r for r in rows if not r.refused]
    p = np.array([r.probability for r in answered])
    y = np.array([r.happened for r in answered], dtype=float)
    print(f"\nBrier score {np.mean((p - y) ** 2):.4f} over {len(answered)} answers "
          f"(always saying the base rate {y.mean():.2f} would score {np.mean((y.mean() - y) ** 2):.4f})")
    print(f"{'probability':>13s}{'answers':>9s}{'mean p':>8s}{'happened':>10s}")
    for label, count, mean_p, rate in reliability(p, y):
        print(f"{label:>13s}{count:9d}{mean_p:8.2f}{rate:10.2f}")


def stability(client: InfracastClient, stub, rng: np.random.Generator, end_ms: int) -> None:
    """Bursty fills asked every hour for 12 hours: how much does the predicted moment move?"""
    spreads = []
    for i in range(6):
        times, now = _timeline(MINUTE, 3 * DAY, 8 * DAY, end_ms)
        s = _bursty(1000 + i, times, now, rng)
        moments, etas = [], []
        for hours_back in range(12, -1, -1):
            upto = now - hours_back * 60
            feed(stub, s, upto)
            answer = client.time_to_threshold(selector(s), 0.0, falling=True, horizon=HORIZON)
            if answer.time_remaining_s is not None:
                moments.append(times[upto] / 1000 + answer.time_remaining_s)
                etas.append(answer.time_remaining_s)
        if len(moments) >= 6:
            spreads.append(np.std(moments) / np.median(etas))
    print(f"\nstability: predicted moment of 'full' re-evaluated hourly over 12 h moves by "
          f"{np.median(spreads):.1%} (median over {len(spreads)} bursty disks; std / time to full)")


def limit_violations(client: InfracastClient, scenarios: list[Scenario]) -> None:
    violations = checked = 0
    for s in scenarios:
        if s.family in ("short_history",):
            continue
        forecast = client.forecast(selector(s), "1h", levels=[95.0])
        lower, upper = (0.0, 1.0) if s.metric.endswith("_ratio") else (0.0, s.capacity or np.inf)
        for path in (forecast.mean, forecast.lower[95.0], forecast.upper[95.0]):
            checked += 1
            violations += int(path.min() < lower - 1e-9 or path.max() > upper + 1e-6)
    print(f"limits: {violations} of {checked} forecast paths (mean, 95 % bounds) outside physical limits")


if __name__ == "__main__":
    main()
