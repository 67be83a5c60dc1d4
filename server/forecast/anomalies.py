"""Anomaly scores: how surprising each recent point is, given the model's one-step forecast."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation
MAX_SCORE = 1e6
MIN_REFERENCE = 30


@dataclass(frozen=True)
class AnomalyScores:
    """Scores for the last `len(score)` grid points, oldest first."""

    values: np.ndarray
    expected: np.ndarray
    score: np.ndarray
    anomalous: np.ndarray


def robust_scores(values: np.ndarray, residuals: np.ndarray, window: int, threshold: float) -> AnomalyScores:
    """Robust z-scores of the one-step residuals of the last `window` points.

    The reference is the residuals before the window (all residuals when there are
    fewer than MIN_REFERENCE), so an anomaly does not widen its own yardstick; the
    median and MAD make the score robust to earlier anomalies too. values and
    residuals are (n,); residuals of 0 before the model's warm-up are ignored.
    """
    window = max(1, min(window, len(values)))
    recent = residuals[-window:]
    earlier = residuals[:-window]
    reference = earlier[earlier != 0.0]
    if len(reference) < MIN_REFERENCE:
        reference = residuals[residuals != 0.0]
    if len(reference) == 0:
        reference = np.zeros(1)
    center = float(np.median(reference))
    spread = MAD_TO_SIGMA * float(np.median(np.abs(reference - center)))
    if spread == 0.0:
        spread = float(np.mean(np.abs(reference - center))) or 1e-12 * (1.0 + abs(center))
    score = np.clip((recent - center) / spread, -MAX_SCORE, MAX_SCORE)
    observed = values[-window:]
    return AnomalyScores(observed, observed - recent, score, np.abs(score) >= threshold)
