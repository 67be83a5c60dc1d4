"""Sustained ingest through gRPC with durable acknowledgements, and the same without.

    python bench/ingest.py [--streams 100] [--seconds 15] [--rate 100000]

Starts infracast-server twice on loopback: with --data-dir (every batch committed
to the SQLite log before its ack) and without (acked once in memory). Each time,
`--streams` agent streams (the real Shipper, in this process) send batches of
1,000 samples, and the script reports acknowledged samples per second and the
time from handing a batch to the shipper to its acknowledgement (p50, p99).
With --rate, the streams together offer that many samples per second (latency at
a given load); with --rate 0 they keep batches in flight as fast as acks return
(the most the server sustains; latency is then queueing by construction).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_process import start_server

from infracast.agent.backoff import Backoff
from infracast.agent.shipper import Shipper
from infracast.v1 import ingest_pb2, series_pb2

SERIES_PER_BATCH = 100
POINTS_PER_SERIES = 10
IN_FLIGHT = 2
BASE_MS = int(time.time() * 1000) - 3_600_000


def make_batch(stream: int, index: int) -> list[series_pb2.SeriesSamples]:
    # Unique, recent timestamps (1 ms apart): the server refuses samples beyond its retention.
    start = BASE_MS + index * POINTS_PER_SERIES
    times = [start + k for k in range(POINTS_PER_SERIES)]
    values = [float(index)] * POINTS_PER_SERIES
    return [series_pb2.SeriesSamples(
        key=series_pb2.SeriesKey(metric="bench_value", labels={"series": str(s)}),
        timestamps_ms=times, values=values) for s in range(SERIES_PER_BATCH)]


async def load(address: str, streams: int, seconds: float, rate: float) -> tuple[int, list[float]]:
    latencies: list[float] = []
    sent_at: dict[tuple[int, int], float] = {}
    acked_samples = 0
    measuring = False

    def recorder(stream):
        def record(batch):
            nonlocal acked_samples
            sent = sent_at.pop((stream, batch.sequence), None)
            if measuring and sent is not None:
                latencies.append(time.perf_counter() - sent)
                acked_samples += sum(len(s.values) for s in batch.series)
        return record

    shippers = []
    for stream in range(streams):
        shipper = Shipper(address, ingest_pb2.Hello(node=f"bench-{stream}", agent_id=f"bench-{stream}"),
                          max_in_flight=IN_FLIGHT, backoff=Backoff(rng=random.Random(stream)))
        shipper.on_acked = recorder(stream)
        shippers.append(shipper)
    stop = asyncio.Event()

    batch_samples = SERIES_PER_BATCH * POINTS_PER_SERIES
    interval = streams * batch_samples / rate if rate > 0 else 0.0

    async def feed(stream: int, shipper: Shipper) -> None:
        index = 0
        next_at = time.perf_counter() + random.Random(stream).uniform(0, interval)
        while not stop.is_set():
            if interval and time.perf_counter() < next_at:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                continue
            if interval or shipper.buffered_batches < IN_FLIGHT:
                sequence = shipper.submit(make_batch(stream, index))
                sent_at[(stream, sequence)] = time.perf_counter()
                index += 1
                next_at += interval
            else:
                await asyncio.sleep(0.001)

    tasks = [asyncio.create_task(s.run()) for s in shippers]
    tasks += [asyncio.create_task(feed(i, s)) for i, s in enumerate(shippers)]
    await asyncio.sleep(2.0)  # connect and warm up
    measuring = True
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    measuring = False
    elapsed = time.perf_counter() - started
    stop.set()
    for shipper in shippers:
        await shipper.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    return int(acked_samples / elapsed), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=100_000,
                        help="offered samples per second in all (0: as fast as acks return)")
    args = parser.parse_args()
    offered = (f"{args.rate:,.0f} samples/s offered" if args.rate
               else f"{IN_FLIGHT} batches in flight per stream")
    print(f"{args.streams} streams, batches of {SERIES_PER_BATCH} series x {POINTS_PER_SERIES} samples, "
          f"{offered}, {args.seconds:g}s measured, {os.cpu_count()} cores\n")
    print(f"{'acks':34s}{'samples/s':>12s}{'ack p50 (ms)':>15s}{'ack p99 (ms)':>15s}")
    results = {}
    with tempfile.TemporaryDirectory() as data_dir:
        for label, extra in (("after the SQLite commit (durable)", ["--data-dir", data_dir]),
                             ("after the memory write (no disk)", [])):
            process, address = start_server(*extra)
            try:
                rate, latencies = asyncio.run(load(address, args.streams, args.seconds, args.rate))
            finally:
                process.terminate()
                process.wait(30)
            p50, p99 = np.percentile(latencies, [50, 99]) * 1000 if latencies else (np.nan, np.nan)
            results[label] = rate
            print(f"{label:34s}{rate:12,d}{p50:15.1f}{p99:15.1f}")
    durable, memory = results.values()
    if not args.rate:
        print(f"\ndurability keeps {durable / memory:.0%} of the in-memory throughput")


if __name__ == "__main__":
    main()
