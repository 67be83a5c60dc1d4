"""Sustained ingest through gRPC with durable acknowledgements, and the same without.

    python bench/ingest.py [--streams 100] [--seconds 15] [--rate 100000]
                           [--points-per-series 10] [--reference PATH] [--profile DIR]

Starts infracast-server twice on loopback: with --data-dir (every batch committed
to the SQLite log before its ack) and without (acked once in memory). Each time,
`--streams` agent streams (the real Shipper, in this process) send batches of
1,000 samples, and the script reports acknowledged samples per second and the
time from handing a batch to the shipper to its acknowledgement (p50, p99).
With --rate, the streams together offer that many samples per second (latency at
a given load); with --rate 0 they keep batches in flight as fast as acks return
(the most the server sustains; latency is then queueing by construction).

Also printed: the server's CPU (user + system, from /proc) per acknowledged sample and
the cores it used. With --reference (another build's infracast-server, e.g. main's
.venv/bin/infracast-server), that server runs first in each mode, in the same run, and
the ratios follow. With --profile DIR, py-spy records each server over the measured
seconds (DIR/<build>-<mode>.txt, top functions by own samples; needs py-spy, in the
`bench` extra, and ptrace permission).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_process import SERVER, start_server

from infracast.agent.backoff import Backoff
from infracast.agent.shipper import Shipper
from infracast.v1 import ingest_pb2, series_pb2

SERIES_PER_BATCH = 100
POINTS_PER_SERIES = 10  # --points-per-series; agents send 1 (one scrape per batch)
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_profile(pid: int, seconds: float, raw: Path) -> subprocess.Popen | None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        print("py-spy not found (pip install py-spy): no profile", file=sys.stderr)
        return None
    return subprocess.Popen([py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)),
                             "--rate", "200", "--format", "raw", "--nonblocking", "--threads",
                             "--output", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def summarise_profile(raw: Path, summary: Path, top: int = 25) -> None:
    """Top functions by own samples (the last frame of each stack), from py-spy's raw output."""
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or not frames:
            continue
        own[frames[-1]] += int(count)
        total += int(count)
    lines = [f"{count / total:6.1%}  {frame}" for frame, count in own.most_common(top)] if total else []
    summary.write_text(f"{total} samples (all threads)\n" + "\n".join(lines) + "\n")


async def load(address: str, streams: int, seconds: float, rate: float, server_pid: int,
               profile: Path | None = None) -> tuple[int, list[float], float]:
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
    profiler = start_profile(server_pid, seconds, profile) if profile else None
    measuring = True
    started, cpu_started = time.perf_counter(), cpu_seconds(server_pid)
    await asyncio.sleep(seconds)
    measuring = False
    elapsed = time.perf_counter() - started
    server_cpu = cpu_seconds(server_pid) - cpu_started
    stop.set()
    for shipper in shippers:
        await shipper.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    if profiler is not None:
        _, errors = profiler.communicate(timeout=60)
        if profiler.returncode:
            print(f"py-spy failed: {errors.decode().strip()[-300:]}", file=sys.stderr)
    return int(acked_samples / elapsed), latencies, server_cpu / elapsed


def main() -> None:
    global POINTS_PER_SERIES
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=100_000,
                        help="offered samples per second in all (0: as fast as acks return)")
    parser.add_argument("--points-per-series", type=int, default=POINTS_PER_SERIES)
    parser.add_argument("--reference", help="another build's infracast-server, run side by side")
    parser.add_argument("--profile", type=Path, help="write py-spy profiles of the servers here")
    args = parser.parse_args()
    POINTS_PER_SERIES = args.points_per_series
    offered = (f"{args.rate:,.0f} samples/s offered" if args.rate
               else f"{IN_FLIGHT} batches in flight per stream")
    print(f"{args.streams} streams, batches of {SERIES_PER_BATCH} series x {POINTS_PER_SERIES} samples, "
          f"{offered}, {args.seconds:g}s measured, {os.cpu_count()} cores\n")
    builds = ([("reference", args.reference)] if args.reference else []) + [("this build", SERVER)]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"{'acks':34s}{'build':>12s}{'samples/s':>12s}{'server cores':>14s}{'CPU us/sample':>15s}"
          f"{'ack p50 (ms)':>14s}{'ack p99 (ms)':>14s}")
    results: dict[tuple[str, str], tuple[int, float]] = {}
    for label, extra in (("after the SQLite commit (durable)", ["--data-dir"]),
                         ("after the memory write (no disk)", [])):
        for build, server in builds:
            with tempfile.TemporaryDirectory() as data_dir:
                process, address = start_server(*extra + ([data_dir] if extra else []), server=server)
                name = f"{build.replace(' ', '-')}-{'durable' if extra else 'memory'}"
                raw = args.profile / f"{name}.raw" if args.profile else None
                try:
                    rate, latencies, cores = asyncio.run(
                        load(address, args.streams, args.seconds, args.rate, process.pid, raw))
                finally:
                    process.terminate()
                    process.wait(30)
            if raw is not None and raw.exists():
                summarise_profile(raw, raw.with_suffix(".txt"))
            p50, p99 = np.percentile(latencies, [50, 99]) * 1000 if latencies else (np.nan, np.nan)
            per_sample = cores / rate * 1e6 if rate else np.nan
            results[(label, build)] = (rate, per_sample)
            print(f"{label:34s}{build:>12s}{rate:12,d}{cores:14.2f}{per_sample:15.2f}{p50:14.1f}{p99:14.1f}")
    if args.reference:
        print()
        for label in ("after the SQLite commit (durable)", "after the memory write (no disk)"):
            (ref_rate, ref_cpu), (rate, cpu) = results[(label, "reference")], results[(label, "this build")]
            print(f"{label:34s} this build / reference: samples/s {rate / ref_rate:.2f}x, "
                  f"CPU per sample {cpu / ref_cpu:.2f}x")
    if not args.rate:
        durable = results[("after the SQLite commit (durable)", "this build")][0]
        memory = results[("after the memory write (no disk)", "this build")][0]
        print(f"\nthis build: durability keeps {durable / memory:.0%} of the in-memory throughput")


if __name__ == "__main__":
    main()
