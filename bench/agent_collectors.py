"""CPU time of each of the agent's default collectors and of encoding one collection, in
process, on this machine's /proc and /sys (where the agent's CPU per collection goes).

    python bench/agent_collectors.py [--rounds 200]

Prints, per collector, the mean CPU time (time.process_time) of collect() and its sample
count; then one whole collection (runner included) and the TickEncoder's encode + parse.
The agent's cost against node_exporter is bench/agent_overhead.py's; this one says where
it goes.
"""

from __future__ import annotations

import argparse
import time

from infracast.agent.collectors import default_collectors
from infracast.agent.runner import sample_collectors
from infracast.agent.tick_encoding import TickEncoder


def cpu_us(call, rounds: int) -> float:
    started = time.process_time()
    for _ in range(rounds):
        call()
    return (time.process_time() - started) / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    collectors = default_collectors()
    tick = sample_collectors(collectors)  # warm caches (names, kept files, CPU totals)
    print("| collector | CPU per collect (us) | samples |\n| --- | --- | --- |")
    for collector in collectors:
        print(f"| {collector.name} | {cpu_us(collector.collect, args.rounds):.0f} | "
              f"{len(collector.collect())} |")
    encoder = TickEncoder()
    whole = cpu_us(lambda: sample_collectors(collectors), args.rounds)
    encode = cpu_us(lambda: encoder.batch(tick.timestamp_ms, tick.samples), args.rounds)
    print(f"| all, with the runner | {whole:.0f} | {len(tick.samples)} |")
    print(f"| encode + parse (TickEncoder.batch) | {encode:.0f} | |")


if __name__ == "__main__":
    main()
