"""Where the agent's CPU goes, thread by thread, and how often each thread wakes.

    python bench/agent_threads.py [--interval 10s] [--warmup 20] [--seconds 90]
                                  [--variant NAME[@AGENT]:KEY=VALUE;...]...

Starts the real infracast-server on a loopback port and one infracast-agent per variant,
all at once and side by side (so a busy machine's noise falls on each alike); a variant
is this build's agent or another build's (AGENT: the path of its infracast-agent), with
extra environment variables (`base:` is this build's agent as is). For example, main's
agent beside this one: --variant main@/work/main/.venv/bin/infracast-agent: --variant ours: After the
warm-up it reads every thread's /proc/PID/task/TID/schedstat (CPU time run) and status
(voluntary and involuntary context switches: how often the thread went to sleep and was
woken) and prints, per variant and thread name, CPU per collection and wake-ups per
second over --seconds, then each variant's total beside the first variant's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from agent_overhead import AGENT, wait_until
from server_process import start_server

from infracast.clients.client import InfracastClient
from infracast.common.durations import parse_duration


@dataclass(frozen=True)
class ThreadUsage:
    name: str
    cpu_ns: int
    switches: int  # voluntary + involuntary


def thread_usage(pid: int) -> dict[int, ThreadUsage]:
    """Each live thread of the process by TID (a thread that exits between reads is skipped)."""
    threads = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            cpu_ns = int((task / "schedstat").read_text().split()[0])
            status = dict(line.split(":\t", 1) for line in (task / "status").read_text().splitlines()
                          if ":\t" in line)
        except FileNotFoundError:
            continue
        switches = int(status["voluntary_ctxt_switches"]) + int(status["nonvoluntary_ctxt_switches"])
        threads[int(task.name)] = ThreadUsage(name, cpu_ns, switches)
    return threads


def by_name(before: dict[int, ThreadUsage], after: dict[int, ThreadUsage]) -> dict[str, tuple[int, int, int]]:
    """Thread name -> (threads, CPU ns, context switches) over the interval; a thread born
    during it counts from zero."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for tid, end in after.items():
        start = before.get(tid, ThreadUsage(end.name, 0, 0))
        total = totals[end.name]
        total[0] += 1
        total[1] += end.cpu_ns - start.cpu_ns
        total[2] += end.switches - start.switches
    return {name: (n, cpu, sw) for name, (n, cpu, sw) in totals.items()}


@dataclass(frozen=True)
class Variant:
    name: str
    agent: str
    env: dict[str, str]


def parse_variant(text: str) -> Variant:
    head, _, settings = text.partition(":")
    name, _, agent = head.partition("@")
    env = dict(item.split("=", 1) for item in settings.split(";") if item)
    return Variant(name, agent or AGENT, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interval", default="10s")
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--variant", action="append", default=[],
                        help="NAME[@AGENT]:KEY=VALUE;... an agent (this build's or AGENT) "
                             "with these environment variables")
    parser.add_argument("--agent-arg", action="append", default=[])
    args = parser.parse_args()
    interval_s = parse_duration(args.interval)
    variants = [parse_variant(v) for v in args.variant or ["base:"]]

    server, address = start_server()
    agents = []
    try:
        for variant in variants:
            agents.append(subprocess.Popen(
                [variant.agent, "--server", address, "--node", f"bench-threads-{variant.name}",
                 "--interval", args.interval, "--kubernetes", "off", "--log-level", "warning",
                 *args.agent_arg],
                env={**os.environ, **variant.env}))
        with InfracastClient(address) as client:
            for variant in variants:
                wait_until(lambda n=variant.name: _series(client, n) > 0, 60,
                           f"agent {variant.name}'s first samples")
        time.sleep(args.warmup)
        before = [thread_usage(agent.pid) for agent in agents]
        started = time.monotonic()
        time.sleep(args.seconds)
        after = [thread_usage(agent.pid) for agent in agents]
        elapsed = time.monotonic() - started
    finally:
        for process in (*agents, server):
            process.terminate()
            process.wait(timeout=30)

    collections = elapsed / interval_s
    print(f"interval {args.interval}, {elapsed:.0f} s measured after {args.warmup:.0f} s warm-up, "
          f"{len(agents)} agents side by side")
    print("| variant | thread | threads | CPU per collection (ms) | wake-ups per s |")
    print("| --- | --- | --- | --- | --- |")
    totals = []
    for variant, start, end in zip(variants, before, after, strict=True):
        rows = by_name(start, end)
        for thread, (n, cpu_ns, switches) in sorted(rows.items(), key=lambda r: -r[1][1]):
            print(f"| {variant.name} | {thread} | {n} | {cpu_ns / 1e6 / collections:.2f} "
                  f"| {switches / elapsed:.1f} |")
        totals.append((variant.name, sum(r[1] for r in rows.values()) / 1e6 / collections,
                       sum(r[2] for r in rows.values()) / elapsed))
    print("\n| variant | CPU per collection (ms) | wake-ups per s | CPU vs first |")
    print("| --- | --- | --- | --- |")
    for name, cpu_ms, wakeups in totals:
        print(f"| {name} | {cpu_ms:.2f} | {wakeups:.1f} | {cpu_ms / totals[0][1]:.2f}x |")


def _series(client: InfracastClient, name: str) -> int:
    series, _ = client.list_series(f'{{node="bench-threads-{name}"}}', limit=10_000)
    return len(series)


if __name__ == "__main__":
    main()
