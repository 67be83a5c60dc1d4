"""Score the streaming anomaly detector on NAB with NAB's own scorer, and time it.

    python bench/nab_score.py [--nab ../shared/nab-dev] [--results DIR]

Runs anomaly_scores causally over every file of the NAB development corpus, writes
RESULTS/<category>/infracast_<file>.csv and calls the corpus' `score` script (NAB's
scorer, unmodified), which prints the three profile scores beside Numenta HTM and null.
Then it times the streaming update (points per second on one core, compiled code only)
and, for the four NAB infrastructure files in shared/data/nab (the rest are held out),
reports which labelled windows the default threshold catches and how many points it
flags outside them.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nab import anomaly_windows, load_series

from infracast.server.forecast.anomaly_detector import (
    DEFAULT_SENSITIVITY,
    SENSITIVITY_THRESHOLDS,
    StreamingAnomalyDetector,
    anomaly_scores,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"


def _ms(text: str) -> int:
    moment = datetime.strptime(text.split(".")[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def write_results(nab: Path, results: Path) -> int:
    """Scores every data file into results; returns the number of points scored."""
    points = 0
    for path in sorted((nab / "data").glob("*/*.csv")):
        with path.open() as handle:
            rows = list(csv.DictReader(handle))
        timestamps = np.array([_ms(r["timestamp"]) for r in rows], dtype=np.int64)
        scores = anomaly_scores(timestamps, np.array([float(r["value"]) for r in rows]))
        target = results / path.parent.name / f"infracast_{path.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(["timestamp", "value", "anomaly_score", "label"])
            for row, score in zip(rows, scores, strict=True):
                out.writerow([row["timestamp"], row["value"], f"{score:.6f}", 0])
        points += len(rows)
    return points


def points_per_second(repeats: int = 20) -> float:
    """Streaming updates per second: one detector fed 100,000 points one batch at a time."""
    rng = np.random.default_rng(0)
    n = 100_000
    timestamps = 1_700_000_000_000 + 300_000 * np.arange(n, dtype=np.int64)
    values = 50 + 10 * np.sin(np.arange(n) * 2 * np.pi / 288) + rng.normal(size=n)
    StreamingAnomalyDetector().update(timestamps[:200], values[:200])  # compile or load
    best = np.inf
    for _ in range(repeats):
        detector = StreamingAnomalyDetector()
        started = time.perf_counter()
        detector.update(timestamps, values)
        best = min(best, time.perf_counter() - started)
    return n / best


def held_out_check(threshold: float) -> None:
    windows = anomaly_windows()
    print(f"\nNAB infrastructure files in shared/data/nab at threshold {threshold}:")
    for name, (timestamps, values) in load_series().items():
        scores = anomaly_scores(timestamps, values)
        flagged = timestamps[scores >= threshold]
        inside = np.zeros(len(flagged), dtype=bool)
        hits = []
        for low, high in windows.get(name, []):
            within = (flagged >= low) & (flagged <= high)
            inside |= within
            hits.append(bool(within.any()))
        print(f"  {name:32s} windows caught {sum(hits)}/{len(hits)}, "
              f"flags outside windows {int((~inside).sum())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nab", type=Path, default=SHARED / "nab-dev")
    parser.add_argument("--results", type=Path, default=None,
                        help="where to write the results (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        results = args.results or Path(scratch) / "results"
        points = write_results(args.nab, results)
        print(f"scored {points} points of {args.nab / 'data'} into {results}")
        subprocess.run([str(args.nab / "score"), str(results)], check=True)
    print(f"\nstreaming update: {points_per_second():,.0f} points/second on one core")
    held_out_check(SENSITIVITY_THRESHOLDS[DEFAULT_SENSITIVITY])


if __name__ == "__main__":
    main()
