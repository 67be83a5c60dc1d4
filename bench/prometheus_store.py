"""store=prometheus against the real VictoriaMetrics (Debian's victoria-metrics binary):

    python bench/prometheus_store.py [--streams 100] [--seconds 15] [--agents 1000] [--forecasts 20]

1. Samples per second through one replica into VictoriaMetrics: `--streams` agent streams
   (the real Shipper) keep batches of 1,000 samples in flight; each is acknowledged after
   VictoriaMetrics accepted its remote write (bench/ingest.py's load, unchanged).
2. Forecast latency when the window comes from PromQL: `--forecasts` series of 6 h at 15 s
   (plus 14 days at 5 minutes) written to VictoriaMetrics, each forecast once (cold: the
   window is read by PromQL and the model fitted) and again (cached: window and fit reused).
3. Memory of the replica at `--agents` agents: that many streams connected, each sending one
   batch of 100 series (an agent's node), then the replica's RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import load
from server_process import start_server

from infracast.agent.backoff import Backoff
from infracast.agent.batches import BatchBuilder
from infracast.agent.shipper import Shipper
from infracast.clients.client import InfracastClient
from infracast.server.series import SeriesKey
from infracast.server.store.base import SeriesWrite
from infracast.server.store.remote_write import HEADERS, encode
from infracast.v1 import ingest_pb2


def free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_victoria_metrics(directory: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(["victoria-metrics", f"-storageDataPath={directory}",
                                f"-httpListenAddr=127.0.0.1:{port}", "-search.latencyOffset=0s",
                                "-loggerLevel=WARN"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("victoria-metrics did not start")


def write_history(url: str, count: int) -> list[str]:
    now_ms = int(time.time() * 1000)
    rng = np.random.default_rng(1)
    selectors = []
    for i in range(count):
        old = np.arange(now_ms - 14 * 86400_000, now_ms - 6 * 3600_000, 300_000)
        recent = np.arange(now_ms - 6 * 3600_000, now_ms, 15_000)
        times = np.concatenate([old, recent])
        phase = 2 * np.pi * (times % 86400_000) / 86400_000
        values = 50 + 10 * np.sin(phase) + rng.normal(0, 1, len(times))
        key = SeriesKey.of("bench_history", {"instance": f"host-{i}:9100", "job": "node"})
        body = encode([SeriesWrite(key, times.astype(np.int64), values)])
        request = urllib.request.Request(f"{url}/api/v1/write", body, HEADERS, method="POST")
        urllib.request.urlopen(request, timeout=30).close()
        selectors.append(f'bench_history{{instance="host-{i}:9100"}}')
    urllib.request.urlopen(f"{url}/internal/force_flush", timeout=30).close()
    return selectors


def forecast_latency(address: str, selectors: list[str]) -> tuple[list[float], list[float]]:
    cold, cached = [], []
    with InfracastClient(address, timeout_s=120) as client:
        for timings in (cold, cached):
            for selector in selectors:
                started = time.perf_counter()
                client.forecast(selector, "1h")
                timings.append(time.perf_counter() - started)
    return cold, cached


async def connect_agents(address: str, agents: int) -> tuple[int, list[Shipper], list[asyncio.Task]]:
    acked = 0
    shippers = []
    for agent in range(agents):
        shipper = Shipper(address, ingest_pb2.Hello(node=f"agent-{agent}", agent_id=f"agent-{agent}"),
                          max_in_flight=1, backoff=Backoff(rng=random.Random(agent)))
        builder = BatchBuilder()
        now_ms = int(time.time() * 1000)
        for series in range(100):
            builder.add_points("bench_agent_value", {"series": str(series)}, [now_ms], [float(series)])
        shipper.submit(builder.build())
        shippers.append(shipper)
    tasks = [asyncio.create_task(s.run()) for s in shippers]
    for shipper in shippers:
        if await shipper.flush(timeout=300):
            acked += 1
    return acked, shippers, tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--forecasts", type=int, default=20)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; VictoriaMetrics single-node on loopback\n")
    with tempfile.TemporaryDirectory() as directory:
        vm, url = start_victoria_metrics(directory)
        try:
            server_args = ["--store", "prometheus", "--prometheus-url", url]
            process, address = start_server(*server_args)
            try:
                rate, latencies = asyncio.run(load(address, args.streams, args.seconds, 0))
                p50, p99 = np.percentile(latencies, [50, 99]) * 1000
                print(f"ingest: {rate:,d} samples/s acknowledged after VictoriaMetrics accepted them "
                      f"({args.streams} streams, ack p50 {p50:.1f} ms, p99 {p99:.1f} ms)")
                selectors = write_history(url, args.forecasts)
                cold, cached = forecast_latency(address, selectors)
                print(f"forecast, window from PromQL (6 h at 15 s + 14 d at 5 min), {args.forecasts} series: "
                      f"cold p50 {np.median(cold) * 1000:.0f} ms (max {max(cold) * 1000:.0f}), "
                      f"cached p50 {np.median(cached) * 1000:.1f} ms (max {max(cached) * 1000:.1f})")
            finally:
                process.terminate()
                process.wait(30)
            process, address = start_server(*server_args)
            try:
                server = psutil.Process(process.pid)
                before = server.memory_info().rss

                async def agents_scenario():
                    acked, shippers, tasks = await connect_agents(address, args.agents)
                    rss = server.memory_info().rss
                    for shipper in shippers:
                        await shipper.close()
                    await asyncio.gather(*tasks, return_exceptions=True)
                    return acked, rss

                acked, rss = asyncio.run(agents_scenario())
                print(f"memory: replica RSS {before / 2**20:.0f} MiB idle, {rss / 2**20:.0f} MiB with "
                      f"{acked} of {args.agents} agents connected (100 series each, streams open)")
            finally:
                process.terminate()
                process.wait(30)
        finally:
            vm.terminate()
            vm.wait(30)


if __name__ == "__main__":
    main()
