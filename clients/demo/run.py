"""`infracast demo`: the whole system on one machine, no cluster, no configuration.

Starts the server (embedded store, in a temporary data directory) on loopback, a
real agent sampling this host, and a simulated fleet whose agents stream over real
gRPC after back-filling three days of history; shows a live table until Ctrl-C or
--duration; stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from infracast.agent.batches import BatchBuilder
from infracast.agent.collectors import default_collectors
from infracast.agent.identity import agent_id, node_name
from infracast.agent.main import sample_forever
from infracast.agent.shipper import Shipper
from infracast.clients.client import InfracastClient
from infracast.clients.demo.dashboard import render, snapshot
from infracast.clients.demo.fleet import SimulatedNode, build_fleet
from infracast.server.app import create_server
from infracast.server.config import ServerConfig
from infracast.v1 import ingest_pb2

BACKFILL_S = 3 * 86400
BACKFILL_STEP_S = 300
REFRESH_S = 3.0

log = logging.getLogger("infracast.demo")


def _hello(node: str, simulated: bool) -> ingest_pb2.Hello:
    labels = {"infracast.io/simulated": "true"} if simulated else {}
    return ingest_pb2.Hello(node=node, labels=labels, agent_version=version("infracast"),
                            agent_id=agent_id(node))


async def _simulate(node: SimulatedNode, shipper: Shipper, interval_s: float,
                    stop: asyncio.Event) -> None:
    now = time.time()
    history = BatchBuilder()
    node.add_samples(history, [now - BACKFILL_S + i * BACKFILL_STEP_S
                               for i in range(BACKFILL_S // BACKFILL_STEP_S)])
    shipper.submit(history.build())
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
        live = BatchBuilder()
        node.add_samples(live, [time.time()])
        shipper.submit(live.build())


def _show(text: str, elapsed_s: float) -> None:
    if sys.stdout.isatty():
        sys.stdout.write("\033[H\033[2J")
    print(f"infracast demo — {elapsed_s:.0f}s — Ctrl-C to stop")
    print(text, flush=True)


async def _demo(duration_s: float | None, nodes: int, interval_s: float, listen: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print("starting the server (the first run on a machine compiles the forecast kernels: "
          "about half a minute)", flush=True)
    data_dir = tempfile.TemporaryDirectory(prefix="infracast-demo-")
    app = create_server(ServerConfig(listen=listen, grace_period_s=2.0, data_dir=Path(data_dir.name)))
    await app.start()
    print(f"server on {app.address}; try: infracast --server {app.address} series", flush=True)

    started = time.time()
    host = node_name(None, {})
    shippers = [Shipper(app.address, _hello(host, simulated=False))]
    tasks = [asyncio.create_task(sample_forever(default_collectors(), shippers[0], interval_s, stop))]
    for profile in build_fleet(nodes, started):
        shipper = Shipper(app.address, _hello(profile.name, simulated=True))
        shippers.append(shipper)
        tasks.append(asyncio.create_task(
            _simulate(SimulatedNode(profile, started), shipper, interval_s, stop)))
    tasks += [asyncio.create_task(s.run()) for s in shippers]

    await asyncio.gather(*(s.flush(timeout=30.0) for s in shippers))
    with InfracastClient(app.address) as client:
        while not stop.is_set():
            rows = await asyncio.to_thread(snapshot, client)
            _show(render(rows), time.time() - started)
            if duration_s is not None and time.time() - started >= duration_s:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), REFRESH_S)

    stop.set()
    for shipper in shippers:
        await shipper.flush(timeout=2.0)
        await shipper.close()
    await asyncio.gather(*tasks)
    await app.stop(grace_s=2.0)
    data_dir.cleanup()
    acked = sum(s.stats.samples_acked for s in shippers)
    print(f"demo stopped: {len(shippers)} agents delivered {acked} samples", flush=True)


def run_demo(duration_s: float | None, nodes: int, interval_s: float, listen: str) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if nodes < 0 or nodes > 500:
        print("infracast: error: --nodes must be between 0 and 500", file=sys.stderr)
        return 2
    asyncio.run(_demo(duration_s, nodes, interval_s, listen))
    return 0
