"""Do infracast's anomaly flags land in NAB's labelled anomaly windows?

    python bench/anomalies.py [--threshold 4]

Streams each NAB AWS series through the engine as a server would see it: every
hour, the last hour is scored against a model fitted on everything before it
(at least two days of history). Prints, per series, how many points were flagged,
how many of those fall inside a labelled window, the share of time the windows
cover (what random flags would score), and whether each window got a flag.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nab import STEP_MS, anomaly_windows, load_series

from infracast.server.forecast.anomalies import robust_scores
from infracast.server.forecast.engine import forecast_values

HOUR = 12
WARMUP = 2 * 288


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=4.0)
    args = parser.parse_args()
    windows = anomaly_windows()
    print(f"{'series':32s}{'flagged':>9s}{'in windows':>12s}{'precision':>11s}{'by chance':>11s}"
          f"{'windows hit':>13s}")
    for name, (timestamps, values) in load_series().items():
        start = timestamps[0]
        grid_times = start + STEP_MS * np.arange(round((timestamps[-1] - start) / STEP_MS) + 1)
        grid = np.interp(grid_times, timestamps, values)
        flagged_times = []
        for end in range(WARMUP + HOUR, len(grid) + 1, HOUR):
            fit = forecast_values(grid[:end], 1, season_length=288)
            scores = robust_scores(grid[:end], fit.residuals, HOUR, args.threshold)
            flagged_times.extend(grid_times[end - HOUR:end][scores.anomalous])
        flagged = np.array(flagged_times)
        inside = np.zeros(len(flagged), dtype=bool)
        hit = []
        for low, high in windows.get(name, []):
            within = (flagged >= low) & (flagged <= high)
            inside |= within
            hit.append(bool(within.any()))
        scored = grid_times[WARMUP:]
        chance = np.mean([any(low <= t <= high for low, high in windows.get(name, [])) for t in scored])
        precision = inside.mean() if len(flagged) else float("nan")
        print(f"{name:32s}{len(flagged):9d}{int(inside.sum()):12d}{precision:11.2f}{chance:11.2f}"
              f"{f'{sum(hit)}/{len(hit)}':>13s}")


if __name__ == "__main__":
    main()
