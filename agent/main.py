"""infracast-agent: sample every interval, hand batches to the shipper, stop on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping, Sequence
from importlib.metadata import version

import psutil

from infracast.agent.batches import BatchBuilder
from infracast.agent.collectors import FAMILIES, Collector
from infracast.agent.collectors.filesystem import FilesystemCollector
from infracast.agent.config import AgentConfig, load_config
from infracast.agent.identity import agent_id
from infracast.agent.kubernetes_node import read_node_metadata
from infracast.agent.runner import sample_collectors
from infracast.agent.shipper import Shipper
from infracast.agent.spool import Spool
from infracast.clients.kubernetes_api import connect
from infracast.clients.log_setup import configure_logging
from infracast.v1 import ingest_pb2

log = logging.getLogger("infracast.agent")


def build_collectors(config: AgentConfig) -> list[Collector]:
    collectors: list[Collector] = []
    for name in config.collectors:
        if name == "filesystem":
            collectors.append(FilesystemCollector(host_root=config.host_root))
        else:
            collectors.append(FAMILIES[name]())
    return collectors


def build_hello(config: AgentConfig, env: Mapping[str, str] = os.environ) -> ingest_pb2.Hello:
    """Who this agent is, with the node's Kubernetes labels and allocatable resources when a
    cluster is reachable (read once, at start)."""
    hello = ingest_pb2.Hello(
        node=config.node, agent_version=version("infracast"), agent_id=agent_id(config.node)
    )
    connection = connect(config.kubernetes, env)
    if connection.api is None:
        if config.kubernetes == "on":
            raise SystemExit(f"infracast-agent: INFRACAST_KUBERNETES=on but {connection.how}")
        log.info("no Kubernetes node metadata: %s", connection.how)
        return hello
    metadata = read_node_metadata(connection.api, config.node)
    if metadata is None:
        if config.kubernetes == "on":
            raise SystemExit(f"infracast-agent: cannot read node {config.node!r} from Kubernetes")
        return hello
    log.info("node %s from Kubernetes (%s): %d labels, allocatable %.3g cores, %.0f MiB",
             config.node, connection.how, len(metadata.labels), metadata.allocatable_cpu_cores,
             metadata.allocatable_memory_bytes / 2**20)
    hello.labels.update(metadata.labels)
    hello.allocatable_cpu_cores = metadata.allocatable_cpu_cores
    hello.allocatable_memory_bytes = metadata.allocatable_memory_bytes
    return hello


async def sample_forever(collectors: list[Collector], shipper: Shipper, interval_s: float,
                         stop: asyncio.Event) -> None:
    """Sample on a fixed cadence; collectors run in a thread so a slow one never stalls the stream."""
    loop = asyncio.get_running_loop()
    next_tick = loop.time()
    while not stop.is_set():
        tick = await asyncio.to_thread(sample_collectors, collectors)
        builder = BatchBuilder()
        builder.add_tick(tick.timestamp_ms, tick.samples)
        shipper.submit(builder.build())
        next_tick += interval_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(next_tick - loop.time(), 0.0))


async def run(config: AgentConfig) -> None:
    spool = Spool(config.spool_dir) if config.spool_dir is not None else None
    shipper = Shipper(config.server, build_hello(config),
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
    await sample_forever(build_collectors(config), shipper, config.interval_s, stop)
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
    psutil.PROCFS_PATH = config.procfs  # the host's /proc, when mounted elsewhere in a container
    asyncio.run(run(config))


if __name__ == "__main__":
    main()
