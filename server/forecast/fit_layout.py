"""What the automatic forecast's kernels and the Python layer agree on: the models by code,
and the layout of the info vector a fit is described in (auto_kernels writes it, engine reads
it and passes it back as `refresh=`).

Adding a model is one constant and one row of MODELS here (and the kernel that fits it);
adding an info field is one name at the end of INFO_FIELDS. The offsets are plain module
ints because numba reads module-level ints as compile-time constants. jit.py's cache key
includes this file, so a changed layout recompiles the kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

# Model codes: the kernels branch on them, MODELS describes them. Codes below SES are the
# short-history fallbacks; SES .. ROBUST_SES are the candidates the backtest chooses from.
NAIVE = 0
MEAN = 1
LINE = 2
SES = 3
DAMPED = 4
THETA = 5
DRIFT = 6
HOLT_WINTERS = 7
SEASONAL_NAIVE = 8
PREDICT_LINEAR = 9
ROBUST_SES = 10
ENSEMBLE = 11  # the weighted mean of the best few candidates
CANDIDATES = ROBUST_SES - SES + 1
ENSEMBLE_SIZE = 3  # at most this many members


@dataclass(frozen=True)
class Model:
    name: str  # as the API reports it
    summary: str  # what it does, for the answer's reason
    parameters: tuple[str, ...] = ()  # the info fields reported as its parameters, in order


_SMOOTHED = ("alpha", "level", "trend_per_step")
MODELS = {
    NAIVE: Model("naive", "the last value carried forward"),
    MEAN: Model("mean", "the mean of the history", ("level", "trend_per_step")),
    LINE: Model("linear_trend", "a least-squares line", ("level", "trend_per_step")),
    SES: Model("simple_smoothing", "exponential smoothing of the level", _SMOOTHED),
    DAMPED: Model("damped_trend", "exponential smoothing with a damped trend",
                  ("alpha", "beta", "phi", "level", "trend_per_step")),
    THETA: Model("theta", "the Theta method (smoothing with half the long-run slope as drift)", _SMOOTHED),
    DRIFT: Model("robust_drift", "smoothing with a drift robust to bursts (median of long differences)",
                 _SMOOTHED),
    HOLT_WINTERS: Model("holt_winters", "Holt-Winters additive seasonal smoothing",
                        ("alpha", "gamma", "level", "trend_per_step")),
    SEASONAL_NAIVE: Model("seasonal_naive", "the same time one season earlier"),
    PREDICT_LINEAR: Model("predict_linear",
                          "a least-squares line over the last window (Prometheus predict_linear)",
                          ("level", "trend_per_step")),
    ROBUST_SES: Model("robust_smoothing",
                      "exponential smoothing of the level, robust to spikes (Huber-cleaned)", _SMOOTHED),
    ENSEMBLE: Model("ensemble", "the mean of the best candidates", ("level", "trend_per_step")),
}

# The info vector: these fields in this order, then ENSEMBLE_SIZE members of MEMBER_FIELDS.
INFO_FIELDS = (
    "model",  # a code above
    "season",  # the season length used, 0 for none
    "repeatability",  # of the seasonal profile
    "alpha", "beta", "gamma", "phi",  # the lead model's smoothing parameters
    "trend_per_step", "level",  # at the last point
    "residual_std",
    "backtest_mae", "backtest_mase",
    "observations",
    "origins",
    "members",  # how many models the forecast averages (1 for a single model)
    "spare",  # unused; keeps the members where they always were
)
MEMBER_LAYOUT = ("code", "alpha", "beta", "gamma", "phi", "weight")
INFO = {name: offset for offset, name in enumerate(INFO_FIELDS)}

INFO_MODEL = INFO["model"]
INFO_SEASON = INFO["season"]
INFO_REPEATABILITY = INFO["repeatability"]
INFO_ALPHA = INFO["alpha"]
INFO_BETA = INFO["beta"]
INFO_GAMMA = INFO["gamma"]
INFO_PHI = INFO["phi"]
INFO_TREND = INFO["trend_per_step"]
INFO_LEVEL = INFO["level"]
INFO_RESIDUAL_STD = INFO["residual_std"]
INFO_BACKTEST_MAE = INFO["backtest_mae"]
INFO_BACKTEST_MASE = INFO["backtest_mase"]
INFO_OBSERVATIONS = INFO["observations"]
INFO_ORIGINS = INFO["origins"]
INFO_MEMBERS = INFO["members"]
INFO_MEMBER_PARAMS = len(INFO_FIELDS)  # member j starts at INFO_MEMBER_PARAMS + MEMBER_FIELDS * j
MEMBER_FIELDS = len(MEMBER_LAYOUT)
MEMBER_CODE = MEMBER_LAYOUT.index("code")
MEMBER_ALPHA = MEMBER_LAYOUT.index("alpha")  # alpha, beta, gamma, phi: a candidate's parameters
MEMBER_WEIGHT = MEMBER_LAYOUT.index("weight")
INFO_SIZE = INFO_MEMBER_PARAMS + MEMBER_FIELDS * ENSEMBLE_SIZE


def member_offsets(info) -> list[int]:
    """Where each member of the fit described by `info` starts."""
    return [INFO_MEMBER_PARAMS + MEMBER_FIELDS * j for j in range(int(info[INFO_MEMBERS]))]
