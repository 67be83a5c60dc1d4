"""Are the 80 % / 95 % intervals and the exceedance probabilities calibrated, horizon by horizon?

    python bench/interval_coverage.py [--origins 60] [--horizon 72] [--save out.json]
                                      [--compare before.json] [--sets nab-aws,synthetic-20,...]

For every series of each data set, forecasts are made from rolling origins spread
over the last 30 % of the series, each from the history before its origin only
(at most the engine's 4,032 points), and scored on the values that followed:
  - coverage of the 80 % and 95 % intervals per bucket of steps ahead (1, 2-6,
    7-24, 25-72, 73-288), pooled over series and origins;
  - the interval widths, in units of the series' own scale (the in-sample mean
    absolute one-step change), and the point forecast's MASE (same scale);
  - reliability of exceedance probabilities: at thresholds placed around the last
    value (independent of the forecast), the probability the forecast gives that
    the value is at or above the threshold, binned, against how often it was;
    and the Brier score.
Data sets: the 4 NAB AWS CloudWatch series (shared/data/nab, 5-minute, two weeks);
the NAB files in shared/nab-dev/data but the 3 noiseless ones (31; various steps: put
on the grid of their median step); synthetic series with a known generator (random walks, trends,
seasons, level shifts, spikes, heavy tails), several seeds each; and synthetic-N, the
same generators forecast from their last N points only, 12 steps ahead.
--save writes the pooled figures as JSON; --compare prints them beside a saved run.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nab import load_series, on_grid

from infracast.server.forecast.engine import MAX_HISTORY_POINTS, forecast_values

LEVELS = (80.0, 95.0)
TEST_SHARE = 0.3
BUCKETS = ((1, 1), (2, 6), (7, 24), (25, 72), (73, 288), (289, 10_000))
# Thresholds at last value + c * scale * sqrt(k): probabilities from near 0 to near 1
# (none at the last value itself: a series that stays put would tie with it).
THRESHOLD_OFFSETS = np.array([-4.0, -2.0, -1.0, -0.5, -0.25, 0.25, 0.5, 1.0, 2.0, 4.0])
# Sets synthetic-N forecast from the last N points only (short histories: the Gaussian
# fallback below 24 points, few backtest origins above), SHORT_HORIZON steps ahead.
SHORT_HISTORIES = (12, 20, 40, 80)
SHORT_HORIZON = 12
MIN_ORIGINS_PER_SET = 960  # a set of few series gets more origins per series
RELIABILITY_BINS = np.linspace(0.0, 1.0, 11)
DAY_S = 86_400
NAB_DEV = Path(__file__).resolve().parents[2] / "shared" / "nab-dev" / "data"
# NAB dev files a forecast can follow exactly: every interval covers them, so they
# would only pull the pooled coverage up without saying anything about calibration.
NOISELESS = ("art_daily_no_noise", "art_daily_perfect_square_wave", "art_flatline")


def _seconds(text: str) -> float:
    moment = datetime.strptime(text.split(".")[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return moment.timestamp()


def nab_dev_series(directory: Path = NAB_DEV) -> dict[str, tuple[np.ndarray, int]]:
    """name -> (values on the grid of the median step, daily season in steps or 0)."""
    series = {}
    for path in sorted(directory.glob("*/*.csv")):
        if path.stem in NOISELESS:
            continue
        with path.open() as handle:
            rows = list(csv.DictReader(handle))
        seconds = np.array([_seconds(r["timestamp"]) for r in rows])
        values = np.array([float(r["value"]) for r in rows])
        step = float(np.median(np.diff(seconds)))
        index = np.round((seconds - seconds[0]) / step).astype(int)
        grid = np.full(index[-1] + 1, np.nan)
        grid[index] = values
        missing = np.isnan(grid)
        grid[missing] = np.interp(np.flatnonzero(missing), np.flatnonzero(~missing), grid[~missing])
        season = round(DAY_S / step) if DAY_S % step == 0 else 0
        series[f"{path.parent.name}/{path.stem}"] = (grid, season)
    return series


def synthetic_series(seeds: int = 3, length: int = 3000) -> dict[str, tuple[np.ndarray, int]]:
    """Series whose generator is known: what calibrated intervals must cover."""
    series = {}
    t = np.arange(length)
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        walk = np.cumsum(rng.normal(0, 1, length))
        series[f"random_walk/{seed}"] = (walk, 0)
        series[f"trend_noise/{seed}"] = (0.05 * t + rng.normal(0, 2, length), 0)
        season = 10 * np.sin(2 * np.pi * t / 96)
        series[f"seasonal_noise/{seed}"] = (50 + season + rng.normal(0, 2, length), 96)
        shifts = np.cumsum(np.where(rng.random(length) < 0.003, rng.normal(0, 15, length), 0.0))
        series[f"level_shifts/{seed}"] = (100 + shifts + rng.normal(0, 2, length), 0)
        spikes = np.where(rng.random(length) < 0.01, rng.exponential(30, length), 0.0)
        series[f"spikes/{seed}"] = (20 + rng.normal(0, 1, length) + spikes, 0)
        series[f"heavy_tails/{seed}"] = (np.cumsum(rng.normal(0, 0.3, length))
                                         + rng.standard_t(3, length), 0)
        ar = np.zeros(length)
        noise = rng.normal(0, 1, length)
        for i in range(1, length):
            ar[i] = 0.9 * ar[i - 1] + noise[i]
        series[f"ar1/{seed}"] = (ar, 0)
        volatility = np.exp(np.cumsum(rng.normal(0, 0.05, length)).clip(-2, 2))
        series[f"changing_volatility/{seed}"] = (np.cumsum(rng.normal(0, 1, length) * volatility), 0)
    return series


def data_sets(names: list[str]) -> dict[str, dict[str, tuple[np.ndarray, int]]]:
    sets = {}
    if "nab-aws" in names:
        sets["nab-aws"] = {name: (on_grid(*raw), 288) for name, raw in load_series().items()}
    if "nab-dev" in names:
        sets["nab-dev"] = nab_dev_series()
    if "synthetic" in names:
        sets["synthetic"] = synthetic_series()
    for history in SHORT_HISTORIES:
        if f"synthetic-{history}" in names:
            sets[f"synthetic-{history}"] = synthetic_series(seeds=12, length=1200)
    return sets


def mean_abs_change(history: np.ndarray) -> float:
    scale = float(np.mean(np.abs(np.diff(history))))
    return scale if scale > 0 else 1.0


def evaluate_series(values: np.ndarray, season: int, origins: int, horizon: int,
                    max_history: int = MAX_HISTORY_POINTS) -> dict:
    """Per step ahead (horizon,): hits, widths and errors summed over origins; exceedance pairs."""
    hits = {level: np.zeros(horizon) for level in LEVELS}
    widths = {level: np.zeros(horizon) for level in LEVELS}
    errors = np.zeros(horizon)
    counts = np.zeros(horizon)
    probabilities, outcomes = [], []
    first = int(len(values) * (1 - TEST_SHARE))
    starts = sorted({round(x) for x in np.linspace(first, len(values) - 1, origins)})
    for origin in starts:
        history = values[max(0, origin - max_history):origin]
        ahead = min(horizon, len(values) - origin)
        f = forecast_values(history, horizon, season_length=season, levels=LEVELS)
        actual = values[origin:origin + ahead]
        scale = mean_abs_change(history)
        for level in LEVELS:
            lower, upper = f.lower[level][:ahead], f.upper[level][:ahead]
            hits[level][:ahead] += (actual >= lower) & (actual <= upper)
            widths[level][:ahead] += (upper - lower) / scale
        errors[:ahead] += np.abs(actual - f.mean[:ahead]) / scale
        counts[:ahead] += 1
        steps = np.arange(1, ahead + 1)
        for offset in THRESHOLD_OFFSETS:
            thresholds = history[-1] + offset * scale * np.sqrt(steps)
            for k in range(ahead):
                probabilities.append(_exceed_at(f, thresholds[k], k))
                outcomes.append(actual[k] >= thresholds[k])
    return {"hits": hits, "widths": widths, "errors": errors, "counts": counts,
            "probabilities": np.array(probabilities), "outcomes": np.array(outcomes, dtype=float)}


def _exceed_at(f, threshold: float, k: int) -> float:
    """Forecast.exceedance at one step only (it computes every step otherwise)."""
    below = np.interp(threshold - f.mean[k], f.error_quantiles[k], f.probabilities, left=0.0, right=1.0)
    return 1.0 - below


def pooled(results: list[dict], horizon: int) -> dict:
    """Pool per-series sums by bucket of steps ahead."""
    out = {"buckets": {}}
    hits = {level: sum(r["hits"][level] for r in results) for level in LEVELS}
    widths = {level: sum(r["widths"][level] for r in results) for level in LEVELS}
    errors = sum(r["errors"] for r in results)
    counts = sum(r["counts"] for r in results)
    for low, high in BUCKETS:
        if low > horizon:
            break
        part = slice(low - 1, min(high, horizon))
        n = counts[part].sum()
        out["buckets"][f"{low}-{min(high, horizon)}" if high > low else f"{low}"] = {
            "coverage80": float(hits[80.0][part].sum() / n),
            "coverage95": float(hits[95.0][part].sum() / n),
            "width80": float(widths[80.0][part].sum() / n),
            "width95": float(widths[95.0][part].sum() / n),
            "mase": float(errors[part].sum() / n),
            "points": int(n),
        }
    p = np.concatenate([r["probabilities"] for r in results])
    o = np.concatenate([r["outcomes"] for r in results])
    out["brier"] = float(np.mean((p - o) ** 2))
    reliability = []
    for low, high in itertools.pairwise(RELIABILITY_BINS):
        inside = (p >= low) & ((p < high) if high < 1 else (p <= high))
        if inside.any():
            reliability.append([float(low), float(high), float(p[inside].mean()),
                                float(o[inside].mean()), int(inside.sum())])
    out["reliability"] = reliability
    return out


def print_table(name: str, figures: dict, before: dict | None) -> None:
    print(f"\n{name}")
    head = f"  {'steps':>8s} {'cov80':>7s} {'cov95':>7s} {'width80':>8s} {'width95':>8s} {'MASE':>7s}"
    if before:
        head += f"   | before: {'cov80':>6s} {'cov95':>6s} {'width80':>8s} {'width95':>8s} {'MASE':>7s}"
    print(head)
    for bucket, row in figures["buckets"].items():
        line = (f"  {bucket:>8s} {100 * row['coverage80']:6.1f}% {100 * row['coverage95']:6.1f}% "
                f"{row['width80']:8.2f} {row['width95']:8.2f} {row['mase']:7.3f}")
        old = before["buckets"].get(bucket) if before else None
        if old:
            line += (f"   |         {100 * old['coverage80']:5.1f}% {100 * old['coverage95']:5.1f}% "
                     f"{old['width80']:8.2f} {old['width95']:8.2f} {old['mase']:7.3f}")
        print(line)
    brier = f"  Brier {figures['brier']:.4f}"
    if before:
        brier += f" (before {before['brier']:.4f})"
    print(brier)
    print("  reliability: given p in [low, high): mean p -> observed frequency (count)")
    print("  " + "  ".join(f"{mean:.2f}->{seen:.2f}" for _, _, mean, seen, _ in figures["reliability"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--origins", type=int, default=60, help="rolling origins per series")
    parser.add_argument("--horizon", type=int, default=72, help="steps ahead")
    parser.add_argument("--sets", default="nab-aws,nab-dev,synthetic," + ",".join(
        f"synthetic-{n}" for n in SHORT_HISTORIES))
    parser.add_argument("--save", type=Path, help="write the pooled figures here (JSON)")
    parser.add_argument("--compare", type=Path, help="a --save file to print beside")
    parser.add_argument("--per-series", action="store_true", help="also one line per series")
    args = parser.parse_args()
    before = json.loads(args.compare.read_text()) if args.compare else {}
    sets = data_sets(args.sets.split(","))
    saved = {}
    started = time.perf_counter()
    for set_name, series in sets.items():
        results = []
        short = set_name.split("-")[-1]
        max_history = int(short) if short.isdigit() else MAX_HISTORY_POINTS
        horizon = min(args.horizon, SHORT_HORIZON) if short.isdigit() else args.horizon
        origins = max(args.origins, MIN_ORIGINS_PER_SET // len(series))
        for name, (values, season) in series.items():
            result = evaluate_series(values, season, origins, horizon, max_history)
            results.append(result)
            if args.per_series:
                n = result["counts"].sum()
                print(f"  {set_name}/{name}: cov80 {100 * result['hits'][80.0].sum() / n:5.1f}% "
                      f"cov95 {100 * result['hits'][95.0].sum() / n:5.1f}% "
                      f"MASE {result['errors'].sum() / n:.3f}")
        saved[set_name] = pooled(results, horizon)
        print_table(f"{set_name}: {len(series)} series, {origins} origins each, "
                    f"horizon {horizon}", saved[set_name], before.get(set_name))
    print(f"\n{time.perf_counter() - started:.0f} s")
    if args.save:
        args.save.write_text(json.dumps(saved, indent=1))


if __name__ == "__main__":
    main()
