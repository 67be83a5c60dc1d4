"""The agent's cost beside Debian's prometheus-node-exporter, at the same interval.

    python bench/agent_overhead.py [--interval 10s] [--warmup 20] [--seconds 240]

Starts the real infracast-server on a loopback port, infracast-agent streaming to it and
prometheus-node-exporter on a free loopback port, which this script scrapes at the same
interval (as Prometheus would). After the warm-up it measures each process's CPU time
(utime + stime from /proc/PID/stat) over --seconds and its RSS at the end, and prints RSS,
CPU per collection, series per collection, CPU per series and the agent/node_exporter
ratios. The agent's series are counted on the server (ListSeries for its node); the
exporter's are the sample lines of one scrape (all of them, and node_* alone).

The script installs nothing: get the exporter with
`apt-get install -y prometheus-node-exporter` (the Debian package; .ci/run does this).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_process import start_server

from infracast.clients.client import InfracastClient
from infracast.common.durations import parse_duration

AGENT = str(Path(sys.executable).parent / "infracast-agent")
NODE_EXPORTER = "prometheus-node-exporter"
NODE = "bench-agent-overhead"
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    cpu_s: float
    rss_bytes: int


def usage(pid: int) -> Usage:
    """CPU seconds (user + system) so far and resident memory now, from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / TICKS_PER_S
    rss_kib = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("VmRSS:"))
    return Usage(cpu_s, rss_kib * 1024)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def count_series(exposition: str) -> tuple[int, int]:
    """Sample lines in a Prometheus text exposition: all of them, and node_* alone."""
    lines = [line for line in exposition.splitlines() if line and not line.startswith("#")]
    return len(lines), sum(line.startswith("node_") for line in lines)


class Scraper(threading.Thread):
    """Scrapes node_exporter every interval on a fixed cadence, counting the scrapes."""

    def __init__(self, url: str, interval_s: float) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.interval_s = interval_s
        self.scrapes = 0
        self.last_body = ""
        self.stop = threading.Event()

    def scrape(self) -> str:
        with urllib.request.urlopen(self.url, timeout=10) as response:
            return response.read().decode()

    def run(self) -> None:
        next_at = time.monotonic()
        while not self.stop.is_set():
            self.last_body = self.scrape()
            self.scrapes += 1
            next_at += self.interval_s
            self.stop.wait(max(next_at - time.monotonic(), 0.0))


def wait_until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"agent_overhead: timed out waiting for {what}")
        time.sleep(0.1)


def agent_series(client: InfracastClient) -> int:
    series, truncated = client.list_series(f'{{node="{NODE}"}}', limit=10_000)
    assert not truncated
    return len(series)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interval", default="10s", help="collection interval of both (default 10s)")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds before measuring")
    parser.add_argument("--seconds", type=float, default=240.0, help="seconds measured")
    parser.add_argument("--agent-arg", action="append", default=[],
                        help="extra agent flag, e.g. --agent-arg=--collectors=cpu,memory")
    args = parser.parse_args()
    interval_s = parse_duration(args.interval)
    exporter = shutil.which(NODE_EXPORTER)
    if exporter is None:
        raise SystemExit("agent_overhead: prometheus-node-exporter not found; "
                         "install it with `apt-get install -y prometheus-node-exporter`")

    port = free_port()
    server, address = start_server()
    agent = subprocess.Popen([AGENT, "--server", address, "--node", NODE, "--interval", args.interval,
                              "--kubernetes", "off", "--log-level", "warning", *args.agent_arg])
    node_exporter = subprocess.Popen([exporter, f"--web.listen-address=127.0.0.1:{port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with InfracastClient(address) as client:
            scraper = Scraper(f"http://127.0.0.1:{port}/metrics", interval_s)
            wait_until(lambda: _answers(scraper), 30, "node_exporter to answer")
            wait_until(lambda: agent_series(client) > 0, 60, "the agent's first samples")
            scraper.start()
            time.sleep(args.warmup)
            agent_before, exporter_before = usage(agent.pid), usage(node_exporter.pid)
            scrapes_before, started = scraper.scrapes, time.monotonic()
            time.sleep(args.seconds)
            agent_after, exporter_after = usage(agent.pid), usage(node_exporter.pid)
            elapsed = time.monotonic() - started
            scrapes = scraper.scrapes - scrapes_before
            scraper.stop.set()
            series = agent_series(client)
            exporter_series, exporter_node_series = count_series(scraper.last_body)
    finally:
        # The agent first, so it does not log the server going away.
        for process in (agent, node_exporter, server):
            process.terminate()
            process.wait(timeout=30)

    collections = elapsed / interval_s  # the agent samples on a fixed cadence
    agent_cpu = (agent_after.cpu_s - agent_before.cpu_s) / collections
    exporter_cpu = (exporter_after.cpu_s - exporter_before.cpu_s) / max(scrapes, 1)
    rows = [
        ("RSS (MiB)", agent_after.rss_bytes / 2**20, exporter_after.rss_bytes / 2**20, "{:.1f}"),
        ("CPU per collection (ms)", agent_cpu * 1e3, exporter_cpu * 1e3, "{:.2f}"),
        ("series per collection", series, exporter_series, "{:.0f}"),
        ("CPU per series (us)", agent_cpu * 1e6 / series, exporter_cpu * 1e6 / exporter_series, "{:.1f}"),
    ]
    print(f"interval {args.interval}, {elapsed:.0f} s measured after {args.warmup:.0f} s warm-up; "
          f"{collections:.0f} agent collections, {scrapes} node_exporter scrapes "
          f"({exporter_node_series} of its series are node_*)")
    print("| | agent | node_exporter | ratio |\n| --- | --- | --- | --- |")
    for name, mine, theirs, form in rows:
        print(f"| {name} | {form.format(mine)} | {form.format(theirs)} | {mine / theirs:.2f}x |")


def _answers(scraper: Scraper) -> bool:
    try:
        scraper.scrape()
    except OSError:
        return False
    return True


if __name__ == "__main__":
    main()
