"""1,000 agent streams against one server while a client asks for health and forecasts.

    python bench/load.py [--agents 1000] [--seconds 30] [--series 150] [--interval 10]

Starts infracast-server (embedded store in a temporary directory) on loopback; this
process runs the agents (the real Shipper, one connection each, every agent sending
`--series` samples every `--interval` seconds) and, on a separate thread, a client
that checks health every 50 ms and asks a forecast every 250 ms. Reports the
server's RSS and CPU, and health and forecast latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_process import start_server

from infracast.agent.backoff import Backoff
from infracast.agent.batches import BatchBuilder
from infracast.agent.shipper import Shipper
from infracast.clients.client import InfracastClient
from infracast.v1 import ingest_pb2


async def agents(address: str, count: int, series: int, interval: float, stop: threading.Event) -> int:
    # In a fleet every agent is its own process with its own TCP connection; in one process
    # grpc would carry all these channels over one shared connection unless told otherwise.
    own_connection = [("grpc.use_local_subchannel_pool", 1)]
    shippers = [Shipper(address, ingest_pb2.Hello(node=f"load-{i:04d}", agent_id=f"load-{i}"),
                        backoff=Backoff(rng=random.Random(i)), channel_options=own_connection)
                for i in range(count)]

    async def sample(index: int, shipper: Shipper) -> None:
        rng = random.Random(index)
        await asyncio.sleep(rng.uniform(0, interval))  # agents are not in lockstep
        while not stop.is_set():
            builder = BatchBuilder()
            now = int(time.time() * 1000)
            for s in range(series):
                builder.add_points(f"load_metric_{s % 10}", {"index": str(s)}, [now], [rng.random()])
            shipper.submit(builder.build())
            await asyncio.sleep(interval)

    tasks = [asyncio.create_task(s.run()) for s in shippers]
    tasks += [asyncio.create_task(sample(i, s)) for i, s in enumerate(shippers)]
    while not stop.is_set():
        await asyncio.sleep(0.2)
    for shipper in shippers:
        await shipper.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    return sum(s.stats.samples_acked for s in shippers)


def resident(pid: int) -> dict[str, int]:
    """The kernel's RSS of a process and its parts: anonymous (heap, stacks) and file pages."""
    kinds = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon", "RssFile"):
                kinds[name] = int(value.split()[0]) * 1024
    return kinds


def questions(address: str, stop: threading.Event, health_ms: list[float], forecast_ms: list[float],
              errors: list[str]) -> None:
    with InfracastClient(address, timeout_s=10) as client:
        next_forecast = time.monotonic()
        while not stop.is_set():
            started = time.perf_counter()
            try:
                client.health("infracast.v1.ForecastService")
                health_ms.append((time.perf_counter() - started) * 1000)
                if time.monotonic() >= next_forecast:
                    next_forecast += 0.25
                    node = f"load-{random.randrange(50):04d}"
                    started = time.perf_counter()
                    client.forecast(f'load_metric_0{{node="{node}",index="0"}}', "10m")
                    forecast_ms.append((time.perf_counter() - started) * 1000)
            except Exception as error:  # no data yet for a node is expected early on
                errors.append(type(error).__name__)
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--series", type=int, default=150)
    parser.add_argument("--interval", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        process, address = start_server("--data-dir", data_dir, "--max-concurrent-rpcs", "5000")
        server = psutil.Process(process.pid)
        stop = threading.Event()
        health_ms: list[float] = []
        forecast_ms: list[float] = []
        errors: list[str] = []
        asker = threading.Thread(target=questions, args=(address, stop, health_ms, forecast_ms, errors))
        result: list[int] = []
        runner = threading.Thread(target=lambda: result.append(asyncio.run(
            agents(address, args.agents, args.series, args.interval, stop))))
        runner.start()
        time.sleep(min(args.interval, 10))  # let every agent connect and send once
        health_ms.clear()
        asker.start()
        cpu_before = server.cpu_times()
        started = time.monotonic()
        peak = {"VmRSS": 0}
        while time.monotonic() - started < args.seconds:
            peak = max(peak, resident(process.pid), key=lambda kinds: kinds["VmRSS"])
            time.sleep(0.5)
        cpu = server.cpu_times()
        busy = (cpu.user + cpu.system - cpu_before.user - cpu_before.system) / (time.monotonic() - started)
        stop.set()
        asker.join()
        runner.join()
        process.terminate()
        process.wait(60)
    print(f"{args.agents} agent streams x {args.series} series every {args.interval:g}s, "
          f"{args.seconds:g}s measured; {result[0] if result else 0:,} samples acknowledged")
    print(f"server peak RSS: {peak['VmRSS'] / 2**20:.0f} MiB = {peak['VmRSS'] / 1e6:.0f} MB "
          f"(target < 300 MB), of which anonymous "
          f"{peak['RssAnon'] / 2**20:.0f} MiB and files {peak['RssFile'] / 2**20:.0f} MiB; "
          f"CPU: {busy:.2f} cores")
    for name, values, target in (("health", health_ms, 50), ("forecast", forecast_ms, None)):
        if values:
            p50, p99 = np.percentile(values, [50, 99])
            goal = f" (target p99 < {target} ms)" if target else ""
            print(f"{name:8s} calls {len(values):5d}  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms{goal}")
    if errors:
        print(f"client errors: {len(errors)} ({', '.join(sorted(set(errors)))})")


if __name__ == "__main__":
    main()
