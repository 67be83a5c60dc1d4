"""`infracast demo`: the whole system on one machine, no cluster, no configuration.

Starts the server (embedded store, in a temporary data directory) on loopback, a
real agent sampling this host, and a simulated fleet whose agents stream over real
gRPC after back-filling three days of history; shows `infracast top` (live on a
terminal, a snapshot every few seconds otherwise) until q, Ctrl-C or --duration;
stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
import threading
import time
from importlib.metadata import version
from pathlib import Path

from infracast.agent.batches import BatchBuilder
from infracast.agent.collectors import default_collectors
from infracast.agent.identity import agent_id, node_name
from infracast.agent.main import sample_forever
from infracast.agent.shipper import Shipper
from infracast.clients.client import InfracastClient
from infracast.clients.demo.fleet import SimulatedNode, build_fleet
from infracast.clients.top.fleet import fleet_view
from infracast.clients.top.live import print_once, run_live
from infracast.server.app import create_server
from infracast.server.config import ServerConfig
from infracast.v1 import ingest_pb2

BACKFILL_S = 3 * 86400
BACKFILL_STEP_S = 300
REFRESH_S = 3.0
DEMO_WITHIN_S = 7 * 86400.0  # three days of history let the demo look a week ahead

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


async def _start_with_progress(app) -> None:
    """Start the server, showing the kernel warm-up (a bar on a terminal, lines otherwise)."""
    starting = asyncio.ensure_future(app.start())
    if sys.stdout.isatty():
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TimeElapsedColumn())
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("starting the server", total=None)
            while not starting.done():
                await asyncio.wait([starting], timeout=0.2)
                state = app.warm_up.state
                if state.total:
                    bar.update(task, total=state.total, completed=state.done,
                               description=f"forecast kernels: {state.step}")
    else:
        shown = -1
        while not starting.done():
            await asyncio.wait([starting], timeout=0.5)
            state = app.warm_up.state
            if state.total and state.done != shown and state.step != "done":
                print(f"  forecast kernels {state.done}/{state.total}: {state.step} ({state.elapsed_s:.0f}s)",
                      flush=True)
                shown = state.done
    await starting
    if not sys.stdout.isatty():
        state = app.warm_up.state
        print(f"  forecast kernels ready: {state.done}/{state.total} steps ({state.elapsed_s:.1f}s)",
              flush=True)


def _watch_live(client: InfracastClient, duration_s: float | None, started: float,
                stop: asyncio.Event, loop: asyncio.AbstractEventLoop) -> None:
    """`infracast top` in this terminal until q, Ctrl-C (which sets `stop`) or the duration."""
    done = threading.Event()
    if duration_s is not None:
        timer = threading.Timer(max(duration_s - (time.time() - started), 0.0), done.set)
        timer.daemon = True
        timer.start()
    asyncio.run_coroutine_threadsafe(_relay(stop, done), loop)
    try:
        run_live(lambda: fleet_view(client, DEMO_WITHIN_S), REFRESH_S, stop=done)
    finally:
        loop.call_soon_threadsafe(stop.set)


async def _relay(stop: asyncio.Event, done: threading.Event) -> None:
    await stop.wait()
    done.set()


async def _demo(duration_s: float | None, nodes: int, interval_s: float, listen: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print("starting the server (the first run on a machine compiles the forecast kernels: "
          "about half a minute)", flush=True)
    data_dir = tempfile.TemporaryDirectory(prefix="infracast-demo-")
    app = create_server(ServerConfig(listen=listen, grace_period_s=2.0, data_dir=Path(data_dir.name)))
    await _start_with_progress(app)
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
        if sys.stdout.isatty() and sys.stdin.isatty():
            await asyncio.to_thread(_watch_live, client, duration_s, started, stop, loop)
        while not stop.is_set():
            fleet = await asyncio.to_thread(fleet_view, client, DEMO_WITHIN_S)
            print(f"infracast demo — {time.time() - started:.0f}s — Ctrl-C to stop", flush=True)
            print_once(fleet)
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
