"""Commit cost per sample of the durable log: SampleLog.write throughput.

    python bench/sample_log_write.py [--series 10000] [--streams 8] [--rounds 30] [--samples 1]
    python bench/code_before.py REV bench/sample_log_write.py ...   # the same, on REV's log

`--streams` concurrent writers (agents' streams) each write their share of `--series`
series, `--samples` samples a series per write, `--rounds` times; the log's writer
group-commits whatever is queued. Compaction is left out (it runs once a minute in a
server; bench/store_disk.py includes it). Prints samples/s and the process's CPU time
per sample (every thread: the writer's SQLite work and encoding, and the callers').
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np

from infracast.server.series import SeriesKey
from infracast.server.store.base import SampleBatch, SeriesWrite
from infracast.server.store.sample_log import SampleLog


async def stream(log: SampleLog, keys: list[SeriesKey], rounds: int, samples: int, start_ms: int) -> None:
    rng = np.random.default_rng(len(keys))
    for round_ in range(rounds):
        times = start_ms + 10_000 * (round_ * samples + np.arange(samples, dtype=np.int64))
        await log.write(SampleBatch.of_writes(
            [SeriesWrite(key, times, np.round(rng.random(samples) * 100, 2)) for key in keys]))


async def run(log: SampleLog, keys: list[SeriesKey], streams: int, rounds: int, samples: int) -> None:
    start_ms = int(time.time() * 1000) - 10_000 * rounds * samples
    share = -(-len(keys) // streams)
    await asyncio.gather(*(stream(log, keys[i: i + share], rounds, samples, start_ms)
                           for i in range(0, len(keys), share)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--samples", type=int, default=1)
    args = parser.parse_args()
    keys = [SeriesKey.of(f"node_metric_{i % 100}", {"node": f"node-{i // 100:04d}"})
            for i in range(args.series)]
    with tempfile.TemporaryDirectory(prefix="infracast-write-") as folder:
        log = SampleLog(Path(folder), raw_window_ms=7 * 86_400_000, retention_ms=14 * 86_400_000,
                        compact_every_s=86_400.0)
        log.open()
        log.start()
        asyncio.run(run(log, keys, args.streams, 1, args.samples))  # new series' ids, kernels loaded
        commits = log.commits
        started, cpu = time.perf_counter(), time.process_time()
        asyncio.run(run(log, keys, args.streams, args.rounds, args.samples))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        commits = log.commits - commits
        log.close()
    total = args.series * args.rounds * args.samples
    print(f"{args.series:,} series in {args.streams} streams, {args.samples} sample(s) a series a write, "
          f"{args.rounds} rounds: {total:,} samples in {commits} commits, {elapsed:.2f} s")
    print(f"{total / elapsed:,.0f} samples/s; {cpu / total * 1e6:.2f} us CPU a sample "
          f"(all threads; a shared machine: compare runs made together)")


if __name__ == "__main__":
    main()
