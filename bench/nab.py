"""Load the NAB AWS CloudWatch series in shared/data/nab onto a regular 5-minute grid."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

STEP_MS = 300_000
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "nab"


def _ms(text: str) -> int:
    moment = datetime.strptime(text.split(".")[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def load_series(directory: Path = DEFAULT_DIR) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (timestamps_ms, values) exactly as recorded (gaps kept)."""
    series = {}
    for path in sorted(directory.glob("*.csv")):
        with path.open() as handle:
            rows = list(csv.DictReader(handle))
        series[path.stem] = (np.array([_ms(r["timestamp"]) for r in rows], dtype=np.int64),
                             np.array([float(r["value"]) for r in rows]))
    return series


def on_grid(timestamps_ms: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values on the 5-minute grid from the first sample; missing steps interpolated.

    Samples are snapped to the nearest grid point (NAB's clocks drift by a few seconds).
    """
    index = np.round((timestamps_ms - timestamps_ms[0]) / STEP_MS).astype(int)
    grid = np.full(index[-1] + 1, np.nan)
    grid[index] = values
    missing = np.isnan(grid)
    grid[missing] = np.interp(np.flatnonzero(missing), np.flatnonzero(~missing), grid[~missing])
    return grid


def anomaly_windows(directory: Path = DEFAULT_DIR) -> dict[str, list[tuple[int, int]]]:
    raw = json.loads((directory / "anomaly_windows.json").read_text())
    return {Path(name).stem: [(_ms(start), _ms(end)) for start, end in windows]
            for name, windows in raw.items()}
