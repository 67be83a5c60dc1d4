"""The same node-like load through infracast and through remote write into VictoriaMetrics and Prometheus.

    python bench/ingest_vs_tsdb.py [--series 100000] [--series-per-node 500] [--interval 10]
        [--fixed-seconds 60] [--saturation-seconds 30] [--saturation-rounds N] [--connections 8]
        [--systems infracast,victoria-metrics,prometheus] [--profile-dir DIR]

For each system in turn this script starts the server on loopback with a data directory of
its own in a temporary folder: infracast-server with --data-dir (every batch committed to
its SQLite log before the ack), pushed over gRPC (IngestService.Push, one stream per node,
up to --in-flight batches unacknowledged); Debian's victoria-metrics and prometheus
(with its remote-write receiver), written with Prometheus remote write 1.0 over
--connections keep-alive HTTP connections. Every node's request is its
--series-per-node series with one sample each (node_load.py: gauges, counters and
constants shaped by the NAB CloudWatch series), identical for all three systems.

Phases, all with timestamps about 2 hours in the past, rising (so nothing is refused as
too old, out of order or in the future):
1. one round creates every series; then a few seconds of quiet;
2. fixed load: every node sends one sample per series every --interval seconds, spread
   evenly over the interval, for --fixed-seconds: the server's CPU time per sample;
3. saturation: every node sends its next round as soon as the previous one is acknowledged
   (timestamps 1 s apart), for --saturation-seconds after a short warm-up: samples/s and
   CPU per sample (or, with --saturation-rounds, until each node sent that many rounds);
4. RSS after the load, per active series (above the idle server's RSS), then bytes on disk:
   VictoriaMetrics after /internal/force_flush and /internal/force_merge and a graceful stop;
   Prometheus as the block its admin snapshot writes from the head (what compaction would
   write; its WAL is reported too); infracast after a graceful stop (SQLite checkpointed).

Server CPU is utime + stime of the server's own process from /proc/PID/stat. The generator
(this process) pre-encodes every request once and patches timestamps and values in place
(node_load.py); its own CPU is measured and printed beside the servers', with the share
spent building requests (patching, and snappy for remote write); the rest is gRPC or
HTTP I/O. On a 2-core machine a saturated server and the generator share the cores, so the
generator's cores are printed next to the server's: when they add up to the machine,
the machine, not the server, is the limit.

The script installs nothing. The TSDBs are Debian packages (`apt-get install -y
prometheus victoria-metrics`; .ci/run installs them); py-spy (for --profile-dir) comes
with the `bench` extra (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cramjam
import grpc
from grpc import aio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from node_load import NodeLoad
from server_process import start_server

from infracast.server.store.sample_log import SampleLog
from infracast.v1 import ingest_pb2

SYSTEMS = ("infracast", "victoria-metrics", "prometheus")
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
SATURATION_STEP_MS = 1_000
SATURATION_WARMUP_S = 3.0  # at most; shorter for very short runs (the smoke test)
QUIET_S = 3.0
PUSH_METHOD = "/infracast.v1.IngestService/Push"


# ---- processes ----------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used (every core), from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9])
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_S


def directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, data: bytes | None = None, timeout_s: float = 120) -> bytes:
    with urllib.request.urlopen(url, data, timeout=timeout_s) as reply:
        return reply.read()


def start_daemon(args: list[str], log_path: Path, ready_url: str) -> subprocess.Popen:
    with log_path.open("w") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{args[0]} exited:\n{log_path.read_text()}")
        try:
            get(ready_url, timeout_s=2)
            return process
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise SystemExit(f"{args[0]} not ready at {ready_url}:\n{log_path.read_text()}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def metric_sum(url: str, name: str) -> float:
    """The sum of a metric's samples in a Prometheus exposition (all label sets)."""
    total = 0.0
    for line in get(url).decode().splitlines():
        if line.startswith(name) and line[len(name)] in " {":
            total += float(line.rsplit(" ", 1)[1])
    return total


def warm_up_s(saturation_seconds: float) -> float:
    return min(SATURATION_WARMUP_S, saturation_seconds)


def quiet_s(args) -> float:
    return min(QUIET_S, args.interval)


# ---- one system under load ----------------------------------------------------------------

@dataclass
class Phase:
    samples: int = 0
    seconds: float = 0.0
    server_cpu_s: float = 0.0
    generator_cpu_s: float = 0.0
    building_s: float = 0.0  # the generator's CPU spent building requests
    machine_cpu_s: float = 0.0  # every process's, other helpers' included


@dataclass
class Result:
    system: str
    series: int
    idle_rss: int = 0
    fixed: Phase = field(default_factory=Phase)
    saturation: Phase = field(default_factory=Phase)
    rss: int = 0
    samples_sent: int = 0
    samples_stored: int = 0
    disk_bytes: int = 0
    disk_how: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class Sender:
    """Sends node requests to one system; subclasses know the wire."""

    def __init__(self, load: NodeLoad, connections: int) -> None:
        self.load = load
        self.connections = connections
        self.building_s = 0.0
        self.samples_acked = 0
        self.rounds = [0] * load.nodes  # next round of each node

    def build_values(self, node: int):
        started = time.thread_time()
        values = self.load.values(node, self.rounds[node])
        self.building_s += time.thread_time() - started
        return values

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, node: int, timestamp_ms: int) -> None:
        """Send the node's next round and wait until the server has taken it."""
        raise NotImplementedError


class InfracastSender(Sender):
    def __init__(self, load: NodeLoad, connections: int, address: str, in_flight: int) -> None:
        super().__init__(load, connections)
        self.address = address
        self.in_flight = in_flight

    async def open(self) -> None:
        # Several TCP connections, as a fleet of agents would use (grpc would otherwise
        # carry every channel over one shared connection).
        self.channels = [aio.insecure_channel(self.address, options=[("grpc.use_local_subchannel_pool", 1)])
                         for _ in range(self.connections)]
        self.calls = []
        self.windows = []
        self.readers = []
        for node in range(self.load.nodes):
            push = self.channels[node % self.connections].stream_stream(
                PUSH_METHOD, request_serializer=None,
                response_deserializer=ingest_pb2.PushResponse.FromString)
            call = push()
            await call.write(self.load.hello(node))
            window = asyncio.Semaphore(self.in_flight)
            self.calls.append(call)
            self.windows.append(window)
            self.readers.append(asyncio.create_task(self._read_acks(call, window)))

    async def _read_acks(self, call, window: asyncio.Semaphore) -> None:
        while True:
            response = await call.read()
            if response is aio.EOF:
                return
            self.samples_acked += response.ack.samples_stored
            window.release()

    async def send(self, node: int, timestamp_ms: int) -> None:
        await self.windows[node].acquire()
        values = self.build_values(node)
        started = time.thread_time()
        self.rounds[node] += 1
        request = self.load.push_request(node, self.rounds[node], timestamp_ms, values)
        self.building_s += time.thread_time() - started
        await self.calls[node].write(request)

    async def drain(self) -> None:
        """Wait until every batch sent is acknowledged."""
        for window in self.windows:
            for _ in range(self.in_flight):
                await window.acquire()
            for _ in range(self.in_flight):
                window.release()

    async def close(self) -> None:
        for call in self.calls:
            await call.done_writing()
        await asyncio.gather(*self.readers)
        for call in self.calls:
            if await call.code() != grpc.StatusCode.OK:
                raise SystemExit(f"infracast stream ended with {await call.code()}: {await call.details()}")
        for channel in self.channels:
            await channel.close()


class RemoteWriteSender(Sender):
    """Remote write 1.0 over keep-alive HTTP/1.1 connections; a node always uses the same
    one, so its samples arrive in order (the TSDBs refuse out-of-order samples)."""

    def __init__(self, load: NodeLoad, connections: int, host: str, port: int) -> None:
        super().__init__(load, connections)
        self.host, self.port = host, port
        self.head = (f"POST /api/v1/write HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Encoding: snappy\r\n"
                     "Content-Type: application/x-protobuf\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\n"
                     "Content-Length: ").encode()

    async def open(self) -> None:
        self.streams = [await asyncio.open_connection(self.host, self.port) for _ in range(self.connections)]
        self.locks = [asyncio.Lock() for _ in range(self.connections)]

    async def send(self, node: int, timestamp_ms: int) -> None:
        connection = node % self.connections
        async with self.locks[connection]:
            values = self.build_values(node)
            started = time.thread_time()
            self.rounds[node] += 1
            body = bytes(cramjam.snappy.compress_raw(self.load.write_request(node, timestamp_ms, values)))
            self.building_s += time.thread_time() - started
            reader, writer = self.streams[connection]
            writer.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            reply = await reader.readexactly(length) if length else b""
            if not status.split()[1].startswith(b"2"):
                raise SystemExit(f"remote write refused: {status.decode().strip()} {reply[:500]!r}")
            self.samples_acked += self.load.series_per_node

    async def close(self) -> None:
        for _, writer in self.streams:
            writer.close()


async def fixed_load(sender: Sender, pid: int, base_ms: int, interval_s: float, seconds: float) -> Phase:
    """Every node one round per interval, the nodes spread evenly over it."""
    load = sender.load
    rounds = max(1, round(seconds / interval_s))
    started = time.monotonic()
    cpu, own, building, acked = cpu_seconds(pid), own_cpu_seconds(), sender.building_s, sender.samples_acked
    machine = machine_busy_seconds()

    async def node_rounds(node: int) -> None:
        offset = interval_s * node / load.nodes
        for r in range(rounds):
            await asyncio.sleep(max(0.0, started + r * interval_s + offset - time.monotonic()))
            await sender.send(node, base_ms + int((r * interval_s + offset) * 1000))

    tasks = [asyncio.create_task(node_rounds(node)) for node in range(load.nodes)]
    await asyncio.gather(*tasks)
    if isinstance(sender, InfracastSender):
        await sender.drain()
    await asyncio.sleep(max(0.0, started + rounds * interval_s - time.monotonic()))
    return Phase(sender.samples_acked - acked, time.monotonic() - started, cpu_seconds(pid) - cpu,
                 own_cpu_seconds() - own, sender.building_s - building, machine_busy_seconds() - machine)


async def saturation(sender: Sender, pid: int, base_ms: int, seconds: float, rounds: int | None) -> Phase:
    """Every node sends its next round as soon as the server takes the previous one.

    With `rounds`, each node sends that many and the phase ends when all are taken (or
    after `seconds`), measured from the first: every system then holds as many samples
    per series, so their bytes on disk per sample compare like for like.
    """
    stopping = False

    async def node_rounds(node: int) -> None:
        r = 0
        while not stopping and (rounds is None or r < rounds):
            await sender.send(node, base_ms + r * SATURATION_STEP_MS)
            r += 1

    tasks = [asyncio.create_task(node_rounds(node)) for node in range(sender.load.nodes)]
    if rounds is None:
        await asyncio.sleep(warm_up_s(seconds))
    started = time.monotonic()
    cpu, own, building, acked = cpu_seconds(pid), own_cpu_seconds(), sender.building_s, sender.samples_acked
    machine = machine_busy_seconds()
    if rounds is None:
        await asyncio.sleep(seconds)
    else:
        await asyncio.wait(tasks, timeout=seconds)
        if isinstance(sender, InfracastSender):
            await sender.drain()
    phase = Phase(sender.samples_acked - acked, time.monotonic() - started, cpu_seconds(pid) - cpu,
                  own_cpu_seconds() - own, sender.building_s - building, machine_busy_seconds() - machine)
    stopping = True
    await asyncio.gather(*tasks)
    if isinstance(sender, InfracastSender):
        await sender.drain()
    return phase


async def run_load(sender: Sender, pid: int, args, result: Result) -> None:
    await sender.open()
    base_ms = int(time.time() * 1000) - 2 * 3_600_000
    load = sender.load
    # Round 0 creates every series; not measured.
    await asyncio.gather(*(sender.send(node, base_ms) for node in range(load.nodes)))
    if isinstance(sender, InfracastSender):
        await sender.drain()
    await asyncio.sleep(quiet_s(args))
    result.fixed = await fixed_load(sender, pid, base_ms + SATURATION_STEP_MS, args.interval,
                                    args.fixed_seconds)
    profiler = start_profile(pid, args) if result.system == "infracast" and args.profile_dir else None
    last_fixed_ms = base_ms + int(args.fixed_seconds * 1000) + int(args.interval * 1000) * 2
    result.saturation = await saturation(sender, pid, last_fixed_ms, args.saturation_seconds,
                                         args.saturation_rounds)
    if profiler is not None:
        profiler.wait()
    await sender.close()
    result.samples_sent = sum(sender.rounds) * load.series_per_node


# ---- the three systems --------------------------------------------------------------------

def measure(system: str, load: NodeLoad, args, directory: Path) -> Result:
    result = Result(system, load.nodes * load.series_per_node)
    load.reset()  # the same values for every system
    data = directory / "data"
    if system == "infracast":
        process, address = start_server("--data-dir", str(data),
                                        "--max-series-per-agent", str(max(20_000, load.series_per_node)),
                                        "--max-series", str(max(1_000_000, result.series)))
        sender: Sender = InfracastSender(load, args.connections, address, args.in_flight)
    elif system == "victoria-metrics":
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = start_daemon([binary(system), f"-storageDataPath={data}",
                                f"-httpListenAddr=127.0.0.1:{port}", "-loggerLevel=WARN"],
                               directory / "log", f"{url}/health")
        sender = RemoteWriteSender(load, args.connections, "127.0.0.1", port)
    else:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        (directory / "prometheus.yml").write_text("global:\n  scrape_interval: 1m\n")
        process = start_daemon([binary(system), f"--config.file={directory / 'prometheus.yml'}",
                                f"--storage.tsdb.path={data}", f"--web.listen-address=127.0.0.1:{port}",
                                "--web.enable-remote-write-receiver", "--web.enable-admin-api",
                                "--log.level=warn"], directory / "log", f"{url}/-/ready")
        sender = RemoteWriteSender(load, args.connections, "127.0.0.1", port)
    try:
        time.sleep(1.0)
        result.idle_rss = rss_bytes(process.pid)
        asyncio.run(run_load(sender, process.pid, args, result))
        time.sleep(quiet_s(args))
        result.rss = rss_bytes(process.pid)
        if system == "victoria-metrics":
            result.samples_stored = int(metric_sum(f"{url}/metrics", "vm_rows_added_to_storage_total"))
            get(f"{url}/internal/force_flush")
            months = {time.strftime("%Y_%m", time.gmtime(time.time() - s)) for s in (0, 3 * 3600)}
            for month in months:
                get(f"{url}/internal/force_merge?partition_prefix={month}")
            wait_until_steady(data)
            stop(process)
            result.disk_bytes = directory_bytes(data)
            result.disk_how = "force_flush + force_merge, stopped"
        elif system == "prometheus":
            result.samples_stored = int(metric_sum(f"{url}/metrics",
                                                   "prometheus_tsdb_head_samples_appended_total"))
            answer = json.loads(get(f"{url}/api/v1/admin/tsdb/snapshot", b""))
            snapshot = data / "snapshots" / answer["data"]["name"]
            result.disk_bytes = directory_bytes(snapshot)
            result.extra["wal"] = f"{directory_bytes(data / 'wal') / max(result.samples_stored, 1):.1f}"
            result.disk_how = "head written as a block (admin snapshot)"
            stop(process)
        else:
            result.samples_stored = sender.samples_acked
            stop(process)
            result.extra["uncompacted"] = f"{directory_bytes(data) / max(result.samples_stored, 1):.1f}"
            result.disk_bytes = compacted_log_bytes(data)
            result.disk_how = "SQLite log compacted after a graceful stop, less free pages"
    finally:
        stop(process)
    return result


def compacted_log_bytes(data: Path) -> int:
    """The bytes the sample log uses once compacted, less the free pages SQLite reuses.

    The running server compacts once a minute, so a short load leaves most samples in the
    commit-sized batch rows (32 bytes a sample at one sample a write); VictoriaMetrics is
    given force_merge and Prometheus a head block, so infracast is given its compaction too.
    The log is opened with the server's default windows (6 h raw, 14 d retention).
    """
    log = SampleLog(data, raw_window_ms=6 * 3_600_000, retention_ms=14 * 86_400_000)
    log.open()
    try:
        log.compact()
        connection = sqlite3.connect(log.path)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            page_size, pages, free = (connection.execute(f"PRAGMA {name}").fetchone()[0]
                                      for name in ("page_size", "page_count", "freelist_count"))
        finally:
            connection.close()
    finally:
        log.close()
    return (pages - free) * page_size


def wait_until_steady(path: Path, timeout_s: float = 60) -> None:
    """Until the directory's size holds still for 3 s (background merges done), at most timeout_s."""
    deadline = time.monotonic() + timeout_s
    size, still_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = directory_bytes(path)
        if now != size:
            size, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= 3:
            return
        time.sleep(0.5)


def binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} is not installed: apt-get install -y prometheus victoria-metrics "
                         "(Debian packages; .ci/run installs them)")
    return path


# ---- the profile --------------------------------------------------------------------------

def start_profile(pid: int, args) -> subprocess.Popen:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    directory = Path(args.profile_dir)
    directory.mkdir(parents=True, exist_ok=True)
    seconds = str(max(1, int(warm_up_s(args.saturation_seconds) + args.saturation_seconds - 1)))
    # Raw (collapsed) stacks for the summary below, one sample per 10 ms; native frames off.
    return subprocess.Popen([py_spy, "record", "--pid", str(pid), "--duration", seconds, "--rate", "100",
                             "--format", "raw", "--output", str(directory / "infracast-server.txt"),
                             "--nonblocking", *(["--gil"] if args.profile_gil else [])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def own_time(collapsed: Path, top: int = 15) -> list[tuple[str, float]]:
    """Functions by own time (leaf frame of each sampled stack), as shares of all samples."""
    counts: Counter[str] = Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        # "function (path/file.py:123)": every line of a function counts as the function.
        counts[re.sub(r"\((?:.*/)?([^/]+?):\d+\)$", r"(\1)", stack.split(";")[-1])] += int(count)
    total = sum(counts.values()) or 1
    return [(name, count / total) for name, count in counts.most_common(top)]


# ---- the table ----------------------------------------------------------------------------

def print_table(results: list[Result], args) -> None:
    def per_sample_us(phase: Phase, cpu: float) -> float:
        return cpu / phase.samples * 1e6 if phase.samples else float("nan")

    rows = [
        ("series", lambda r: r.series, "{:,.0f}"),
        ("samples stored (all phases)", lambda r: r.samples_stored, "{:,.0f}"),
        ("  per series", lambda r: r.samples_stored / r.series, "{:,.0f}"),
        (f"fixed load: samples/s ({args.interval:g}s interval)", lambda r: r.fixed.samples / r.fixed.seconds,
         "{:,.0f}"),
        ("fixed load: server cores", lambda r: r.fixed.server_cpu_s / r.fixed.seconds, "{:.3f}"),
        ("fixed load: server CPU per sample, us", lambda r: per_sample_us(r.fixed, r.fixed.server_cpu_s),
         "{:.2f}"),
        ("fixed load: generator cores", lambda r: r.fixed.generator_cpu_s / r.fixed.seconds, "{:.3f}"),
        ("saturation: samples/s", lambda r: r.saturation.samples / r.saturation.seconds, "{:,.0f}"),
        ("saturation: server cores", lambda r: r.saturation.server_cpu_s / r.saturation.seconds, "{:.2f}"),
        ("saturation: server CPU per sample, us",
         lambda r: per_sample_us(r.saturation, r.saturation.server_cpu_s), "{:.2f}"),
        ("saturation: generator cores", lambda r: r.saturation.generator_cpu_s / r.saturation.seconds,
         "{:.2f}"),
        ("saturation: machine cores busy (all processes)",
         lambda r: r.saturation.machine_cpu_s / r.saturation.seconds, "{:.2f}"),
        ("saturation: generator CPU per sample, us",
         lambda r: per_sample_us(r.saturation, r.saturation.generator_cpu_s), "{:.2f}"),
        ("  of which building requests, us",
         lambda r: per_sample_us(r.saturation, r.saturation.building_s), "{:.2f}"),
        ("RSS after the load, MiB", lambda r: r.rss / 2**20, "{:,.0f}"),
        ("RSS per active series, KiB", lambda r: r.rss / r.series / 1024, "{:.2f}"),
        ("  above the idle server's, KiB", lambda r: (r.rss - r.idle_rss) / r.series / 1024, "{:.2f}"),
        ("bytes on disk per sample", lambda r: r.disk_bytes / max(r.samples_stored, 1), "{:.2f}"),
    ]
    names = [r.system for r in results]
    ours = next((r for r in results if r.system == "infracast"), None)
    others = [r for r in results if r.system != "infracast"] if ours else []
    head = f"{'':48s}" + "".join(f"{n:>18s}" for n in names) + "".join(
        f"{'infracast/' + ('VM' if o.system == 'victoria-metrics' else 'Prom'):>18s}" for o in others)
    print(head)
    for label, value, form in rows:
        cells = [value(r) for r in results]
        line = f"{label:48s}" + "".join(f"{form.format(c):>18s}" for c in cells)
        if ours:
            mine = value(ours)
            line += "".join(f"{(mine / value(o) if value(o) else float('nan')):>17.2f}x" for o in others)
        print(line)
    print()
    for r in results:
        saturation = r.saturation
        if saturation.generator_cpu_s / saturation.seconds >= 0.9:
            print(f"{r.system}: the generator (one Python thread) was near a full core at saturation: "
                  "its samples/s are a lower bound")
        if saturation.machine_cpu_s / saturation.seconds >= 0.9 * (os.cpu_count() or 1):
            print(f"{r.system}: the machine's cores were nearly all busy at saturation (other processes "
                  "included): its samples/s are bound by the machine")
    if len({r.samples_stored // r.series for r in results}) > 1:
        print("samples per series differ between systems: a TSDB's index costs bytes per series, "
              "spread over more samples where it took more (--saturation-rounds makes them equal)")
    for r in results:
        extra = f"; WAL {r.extra['wal']} bytes per sample" if "wal" in r.extra else ""
        if "uncompacted" in r.extra:
            extra = f"; before compaction {r.extra['uncompacted']} bytes per sample"
        print(f"{r.system}: {r.samples_sent:,} samples sent; disk: {r.disk_how}, "
              f"{r.disk_bytes / 2**20:.1f} MiB{extra}; idle RSS {r.idle_rss / 2**20:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--series-per-node", type=int, default=500, help="series in one request")
    parser.add_argument("--interval", type=float, default=10.0,
                        help="seconds between a node's samples (fixed load)")
    parser.add_argument("--fixed-seconds", type=float, default=60.0)
    parser.add_argument("--saturation-seconds", type=float, default=30.0)
    parser.add_argument("--saturation-rounds", type=int,
                        help="send this many rounds per node at saturation, then stop (same samples "
                        "per series in every system; --saturation-seconds still bounds the phase)")
    parser.add_argument("--connections", type=int, default=8, help="TCP connections to each server")
    parser.add_argument("--in-flight", type=int, default=2,
                        help="unacknowledged batches per infracast stream")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--profile-dir", help="py-spy record infracast-server at saturation into this folder")
    parser.add_argument("--profile-gil", action="store_true",
                        help="sample only the thread holding the GIL (py-spy --gil): Python's CPU work "
                        "alone, without threads waiting for the GIL or in native code without it")
    args = parser.parse_args()
    systems = args.systems.split(",")
    if unknown := set(systems) - set(SYSTEMS):
        parser.error(f"unknown systems {sorted(unknown)}; choose from {', '.join(SYSTEMS)}")
    nodes = max(1, args.series // args.series_per_node)
    load = NodeLoad(nodes, args.series_per_node)
    print(f"{nodes} nodes x {args.series_per_node} series, 1 sample each per round; fixed load "
          f"{args.fixed_seconds:g}s at {args.interval:g}s interval, saturation {args.saturation_seconds:g}s; "
          f"{args.connections} connections; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.2f} at the start\n", flush=True)
    results = []
    for system in systems:
        with tempfile.TemporaryDirectory(prefix=f"bench-{system}-") as directory:
            print(f"measuring {system} ...", file=sys.stderr, flush=True)
            results.append(measure(system, load, args, Path(directory)))
    print_table(results, args)
    if args.profile_dir and "infracast" in systems:
        print(f"\ninfracast-server at saturation, functions by own time (py-spy, {args.profile_dir}):")
        for name, share in own_time(Path(args.profile_dir) / "infracast-server.txt"):
            print(f"{share:7.1%}  {name}")


if __name__ == "__main__":
    main()
