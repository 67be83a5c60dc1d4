"""infracast-agent: sample every interval, hand batches to the shipper, stop on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Sequence
from typing import Any

from infracast.agent import __version__
from infracast.agent.collectors import Collector, HostPaths, default_collectors
from infracast.agent.config import AgentConfig, load_config
from infracast.agent.identity import agent_id
from infracast.agent.kubernetes_node import NodeMetadata, connect_to_node_api, read_node_metadata
from infracast.agent.metric_descriptors import MetricDescriber
from infracast.agent.runner import sample_collectors
from infracast.agent.shipper import Shipper
from infracast.agent.tick_encoding import TickEncoder
from infracast.common.kubernetes_api import Connection
from infracast.common.log_setup import configure_logging
from infracast.v1 import ingest_pb2

log = logging.getLogger("infracast.agent")


def build_collectors(config: AgentConfig) -> list[Collector]:
    return default_collectors(list(config.collectors),
                              HostPaths(procfs=config.procfs, sysfs=config.sysfs, rootfs=config.host_root))


# How often the agent re-reads its Node (labels and allocatable change: a node relabelled,
# a kubelet reconfigured). The next hello carries the change; the server closes streams at
# least every 30 minutes (max_connection_age), so it arrives within about 40 minutes.
NODE_REFRESH_S = 600.0


def build_hello(config: AgentConfig, metadata: NodeMetadata | None = None) -> ingest_pb2.Hello:
    """Who this agent is, with its node's Kubernetes labels and allocatable resources if known."""
    hello = ingest_pb2.Hello(
        node=config.node, agent_version=__version__, agent_id=agent_id(config.node)
    )
    if metadata is not None:
        hello.labels.update(metadata.labels)
        hello.allocatable_cpu_cores = metadata.allocatable_cpu_cores
        hello.allocatable_memory_bytes = metadata.allocatable_memory_bytes
    return hello


def first_node_metadata(config: AgentConfig, connection: Connection) -> NodeMetadata | None:
    """Read the Node at start; without a cluster say so once, or stop if it is required."""
    if connection.api is None:
        if config.kubernetes == "on":
            raise SystemExit(f"infracast-agent: INFRACAST_KUBERNETES=on but {connection.how}")
        log.info("no Kubernetes node metadata: %s", connection.how)
        return None
    metadata = read_node_metadata(connection.api, config.node)
    if metadata is None and config.kubernetes == "on":
        raise SystemExit(f"infracast-agent: cannot read node {config.node!r} from Kubernetes")
    if metadata is not None:
        log.info("node %s from Kubernetes (%s): %d labels, allocatable %.3g cores, %.0f MiB",
                 config.node, connection.how, len(metadata.labels), metadata.allocatable_cpu_cores,
                 metadata.allocatable_memory_bytes / 2**20)
    return metadata


async def refresh_node_metadata(config: AgentConfig, api: Any, shipper: Shipper, stop: asyncio.Event,
                                every_s: float = NODE_REFRESH_S) -> None:
    """Re-read the Node every `every_s` and give the shipper the hello to send next time;
    a failed read keeps the last hello (read_node_metadata logs why)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
        if stop.is_set():
            return
        metadata = await asyncio.to_thread(read_node_metadata, api, config.node)
        if metadata is not None:
            shipper.hello = build_hello(config, metadata)


async def sample_forever(collectors: list[Collector], shipper: Shipper, interval_s: float,
                         stop: asyncio.Event) -> None:
    """Sample on a fixed cadence. Collectors run on the event loop: they only read /proc and
    /sys (a few ms), and a thread hand-off every tick cost more than it protected; the one
    read that can hang, statvfs of a network file system, has its own deadline."""
    loop = asyncio.get_running_loop()
    encoder = TickEncoder()
    describer = MetricDescriber()
    # What exists by now (modules, descriptors, collectors) lives as long as the agent: frozen,
    # the garbage collector's full passes stop walking those tens of thousands of objects.
    gc.freeze()
    next_tick = loop.time()
    while not stop.is_set():
        tick = sample_collectors(collectors)
        # Before the batch: the shipper sends a metric's descriptor no later than its first sample.
        shipper.describe(describer.new_descriptors(tick.samples))
        shipper.submit_batch(encoder.batch(tick.timestamp_ms, tick.samples))
        next_tick += interval_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(next_tick - loop.time(), 0.0))


async def run(config: AgentConfig) -> None:
    spool = None
    if config.spool_dir is not None:
        from infracast.agent.spool import Spool  # sqlite3 only for agents that spool

        spool = Spool(config.spool_dir)
    kubernetes = await asyncio.to_thread(connect_to_node_api, config.kubernetes)
    metadata = await asyncio.to_thread(first_node_metadata, config, kubernetes)
    shipper = Shipper(config.server, build_hello(config, metadata),
                      max_buffered_batches=config.max_buffered_batches,
                      max_buffered_bytes=config.buffer_max_bytes, spool=spool, tls=config.tls,
                      token_file=config.token_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("agent for node %s sending to %s every %gs", config.node, config.server,
             config.interval_s)
    shipping = asyncio.create_task(shipper.run())
    refreshing = (asyncio.create_task(refresh_node_metadata(config, kubernetes.api, shipper, stop))
                  if kubernetes.api is not None else None)
    await sample_forever(build_collectors(config), shipper, config.interval_s, stop)
    if refreshing is not None:
        await refreshing
    # Give buffered samples a moment to reach the server before exiting.
    if not await shipper.flush(timeout=5.0):
        log.warning("exiting with %d unacknowledged batches", shipper.buffered_batches)
    await shipper.close()
    await shipping
    if spool is not None:
        spool.close()


def main(argv: Sequence[str] | None = None) -> None:
    config = load_config(argv)
    configure_logging(config.log_level, config.log_format)
    asyncio.run(run(config))


if __name__ == "__main__":
    main()
