"""infracast's automatic forecaster against statsforecast on real infrastructure series.

    python bench/forecast_accuracy.py [--origins 12] [--batch-series 10000]

Needs the bench extra (pip install -e '.[bench]'): statsforecast is a benchmark
dependency only. On the NAB AWS CloudWatch series (5-minute steps, two weeks),
with rolling origins over the last 30 % of each series, it prints side by side:
  - accuracy: MASE (scaled by the in-sample seasonal naive, m = 288) and sMAPE at
    horizons 12 (1 h) and 72 (6 h), for infracast auto, AutoETS, AutoTheta,
    SeasonalNaive, Naive and predict_linear over the last 6 h;
  - coverage of the 80 % and 95 % intervals, infracast against AutoETS;
  - time per series for fit + forecast on one thread after warm-up, and the ratio;
  - batch throughput: series of 2,016 points fitted and forecast over all cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nab import load_series, on_grid

from infracast.server.forecast.engine import forecast_batch, forecast_values

SEASON = 288
HORIZONS = (12, 72)
LEVELS = (80.0, 95.0)
TEST_SHARE = 0.3
PREDICT_LINEAR_WINDOW = 72  # 6 h of 5-minute steps


def predict_linear(history: np.ndarray, horizon: int) -> np.ndarray:
    """Prometheus predict_linear over the last 6 h: least squares, extrapolated."""
    window = history[-PREDICT_LINEAR_WINDOW:]
    t = np.arange(len(window), dtype=float)
    slope, intercept = np.polyfit(t, window, 1)
    return intercept + slope * np.arange(len(window), len(window) + horizon)


def statsforecast_models():
    from statsforecast.models import AutoETS, AutoTheta, Naive, SeasonalNaive

    return {
        "AutoETS": AutoETS(season_length=SEASON),
        "AutoTheta": AutoTheta(season_length=SEASON),
        "SeasonalNaive": SeasonalNaive(season_length=SEASON),
        "Naive": Naive(),
    }


def seasonal_naive_scale(history: np.ndarray) -> float:
    return float(np.mean(np.abs(history[SEASON:] - history[:-SEASON])))


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    denominator = np.abs(actual) + np.abs(forecast)
    safe = np.where(denominator > 0, denominator, 1.0)
    ratio = np.where(denominator > 0, 2 * np.abs(actual - forecast) / safe, 0.0)
    return float(100 * ratio.mean())


def origins_for(length: int, count: int) -> list[int]:
    first = int(length * (1 - TEST_SHARE))
    last = length - max(HORIZONS)
    return sorted({round(x) for x in np.linspace(first, last, count)})


CACHE_DIR = Path(__file__).resolve().parent / ".cache"


def reference_forecast(name: str, model, history: np.ndarray) -> dict[str, np.ndarray]:
    """statsforecast's forecast for this history, cached on disk by model and data.

    AutoETS takes seconds per fit here; the cache lets infracast be re-measured
    without refitting the references (delete bench/.cache to refit them).
    """
    import hashlib

    import statsforecast

    key = hashlib.sha256(f"{name}/{statsforecast.__version__}/{SEASON}/{max(HORIZONS)}/{LEVELS}".encode()
                         + history.tobytes()).hexdigest()[:24]
    path = CACHE_DIR / f"{key}.npz"
    if path.exists():
        with np.load(path) as stored:
            return dict(stored)
    result = model.forecast(y=history, h=max(HORIZONS), level=list(map(int, LEVELS)))
    CACHE_DIR.mkdir(exist_ok=True)
    np.savez(path, **{k: np.asarray(v) for k, v in result.items()})
    return result


def evaluate(series: dict[str, np.ndarray], origins_per_series: int, with_statsforecast: bool):
    """Per model and horizon: lists of MASE, sMAPE and interval hits."""
    scores: dict[tuple[str, int], dict[str, list]] = {}
    models = statsforecast_models() if with_statsforecast else {}

    def record(name, horizon, actual, mean, scale, bounds=None):
        entry = scores.setdefault((name, horizon), {"mase": [], "smape": [], 80.0: [], 95.0: []})
        entry["mase"].append(float(np.mean(np.abs(actual - mean)) / scale))
        entry["smape"].append(smape(actual, mean))
        for level, (lower, upper) in (bounds or {}).items():
            entry[level].append(float(np.mean((actual >= lower) & (actual <= upper))))

    for values in series.values():
        for origin in origins_for(len(values), origins_per_series):
            history = values[:origin]
            scale = seasonal_naive_scale(history)
            for horizon in HORIZONS:
                actual = values[origin:origin + horizon]
                ours = forecast_values(history, horizon, season_length=SEASON, levels=LEVELS,
                                       linear_window=PREDICT_LINEAR_WINDOW)
                record("infracast auto", horizon, actual, ours.mean, scale,
                       {lv: (ours.lower[lv], ours.upper[lv]) for lv in LEVELS})
                record("predict_linear 6h", horizon, actual, predict_linear(history, horizon), scale)
            for name, model in models.items():
                result = reference_forecast(name, model, history)
                for horizon in HORIZONS:
                    actual = values[origin:origin + horizon]
                    bounds = {lv: (result[f"lo-{int(lv)}"][:horizon], result[f"hi-{int(lv)}"][:horizon])
                              for lv in LEVELS} if name == "AutoETS" else None
                    record(name, horizon, actual, result["mean"][:horizon], scale, bounds)
    return scores


def per_series_seconds(series: dict[str, np.ndarray], with_statsforecast: bool, repeats: int):
    """Fit + forecast (72 steps) time per series on one thread, after a warm-up call."""
    histories = [values[:int(len(values) * (1 - TEST_SHARE))] for values in series.values()]
    timers = {"infracast auto": lambda y: forecast_values(y, 72, SEASON, LEVELS, PREDICT_LINEAR_WINDOW),
              "predict_linear 6h": lambda y: predict_linear(y, 72)}
    for name, model in (statsforecast_models().items() if with_statsforecast else []):
        timers[name] = lambda y, model=model: model.forecast(y=y, h=72, level=[80, 95])
    seconds = {}
    for name, run in timers.items():
        run(histories[0])
        reps = 1 if name in ("AutoETS", "AutoTheta") else repeats
        started = time.perf_counter()
        for _ in range(reps):
            for history in histories:
                run(history)
        seconds[name] = (time.perf_counter() - started) / (reps * len(histories))
    return seconds


def batch_throughput(series: dict[str, np.ndarray], count: int, length: int = 2016):
    """Seconds to fit and forecast `count` series of `length` points over all cores."""
    rng = np.random.default_rng(7)
    sources = list(series.values())
    rows = np.empty((count, length))
    for i in range(count):
        source = sources[i % len(sources)]
        start = rng.integers(0, len(source) - length)
        rows[i] = source[start:start + length] * rng.uniform(0.5, 2.0)
    forecast_batch(rows[:8], 72, SEASON, LEVELS, PREDICT_LINEAR_WINDOW)  # compile or load
    started = time.perf_counter()
    result = forecast_batch(rows, 72, SEASON, LEVELS, PREDICT_LINEAR_WINDOW)
    elapsed = time.perf_counter() - started
    assert np.isfinite(result.mean).all()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--origins", type=int, default=12, help="rolling origins per series")
    parser.add_argument("--batch-series", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5, help="timing repetitions (fast models)")
    parser.add_argument("--accuracy-only", action="store_true", help="skip the timing sections")
    parser.add_argument("--without-statsforecast", action="store_true",
                        help="only infracast and the baselines that need no extra package")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    with_sf = not args.without_statsforecast
    series = {name: on_grid(*raw) for name, raw in load_series().items()}
    print(f"series: {', '.join(f'{k} ({len(v)})' for k, v in series.items())}")
    print(f"rolling origins: {args.origins} per series over the last {TEST_SHARE:.0%}; "
          f"season {SEASON}; cores {os.cpu_count()}\n")

    scores = evaluate(series, args.origins, with_sf)
    names = sorted({name for name, _ in scores}, key=lambda n: (n != "infracast auto", n))
    print(f"{'model':20s}" + "".join(f"{f'MASE h={h}':>12s}{f'sMAPE h={h}':>13s}" for h in HORIZONS))
    for name in names:
        cells = "".join(f"{np.mean(scores[(name, h)]['mase']):12.4f}"
                        f"{np.mean(scores[(name, h)]['smape']):13.2f}" for h in HORIZONS)
        print(f"{name:20s}{cells}")
    ours = {h: np.mean(scores[("infracast auto", h)]["mase"]) for h in HORIZONS}
    print("\nMASE ratio, infracast / model (below 1 means infracast is more accurate):")
    for name in names[1:]:
        print(f"  {name:20s}" + "".join(
            f"  h={h}: {ours[h] / np.mean(scores[(name, h)]['mase']):.3f}" for h in HORIZONS))

    print("\ninterval coverage (nominal 80 % / 95 %):")
    for name in ("infracast auto", "AutoETS"):
        if (name, HORIZONS[0]) in scores:
            print(f"  {name:20s}" + "".join(
                f"  h={h}: {100 * np.mean(scores[(name, h)][80.0]):5.1f} % / "
                f"{100 * np.mean(scores[(name, h)][95.0]):5.1f} %" for h in HORIZONS))

    if args.accuracy_only:
        return
    seconds = per_series_seconds(series, with_sf, args.repeats)
    print("\nfit + forecast (72 steps) per series, one thread, after warm-up:")
    for name, value in seconds.items():
        ratio = "" if name == "infracast auto" else \
            f"  ({value / seconds['infracast auto']:8.1f}x infracast)"
        print(f"  {name:20s}{value * 1000:12.2f} ms{ratio}")

    elapsed = batch_throughput(series, args.batch_series)
    print(f"\nbatch: {args.batch_series} series x 2016 points, horizon 72, over {os.cpu_count()} cores: "
          f"{elapsed:.2f} s ({args.batch_series / elapsed:,.0f} series/s)")


if __name__ == "__main__":
    main()
