"""Accuracy metrics, each with one signature (the naive forecasts they compare against are in baselines.py).

Every metric takes `actual` and `forecast` of shape (n_windows, horizon) and `scale`, one number
per window (the in-sample seasonal-naive MAE of that window's history; used by MASE only), and
returns the mean over windows and steps, as the M4 and tourism competitions define them.
"""

from __future__ import annotations

import math

import numpy as np


def mae(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray | None = None) -> float:
    """Mean |y−ŷ|. (scikit-learn's `mean_absolute_error` gives the same number, but its input
    checks cost about 0.2 ms a call: `evaluate` scores every series, and 20,000 series spent
    seconds in them; so do this and `rmse` in numpy, the arithmetic scikit-learn runs.)"""
    return float(np.mean(np.abs(actual - forecast)))


def rmse(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray | None = None) -> float:
    """The square root of the mean (y−ŷ)²."""
    return float(np.sqrt(np.mean((actual - forecast) ** 2)))


def smape(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray | None = None) -> float:
    """sMAPE in %: 200·|y−ŷ|/(|y|+|ŷ|), a step where both are 0 counting as 0."""
    denom = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(np.abs(actual - forecast), denom, out=np.zeros_like(denom, dtype="float64"), where=denom > 0)
    return float(200.0 * np.mean(ratio))


def mape(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray | None = None) -> float:
    """Tourism MAPE in %: mean over windows of 100·mean|y−ŷ|/|y|; steps where y = 0 are skipped."""
    nonzero = np.abs(actual) > 0
    if not nonzero.any():
        return math.nan
    # Per window: the mean over its nonzero steps; a window of zeros only is skipped (counted
    # by hand, as np.nanmean would warn on stderr for it).
    ratio = np.where(nonzero, np.abs(actual - forecast) / np.where(nonzero, np.abs(actual), 1.0), 0.0)
    counts = nonzero.sum(axis=1)
    per_window = ratio.sum(axis=1)[counts > 0] / counts[counts > 0]
    return float(100.0 * np.mean(per_window))


def mase(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray | None = None) -> float:
    """MASE: |y−ŷ| over the window's in-sample seasonal-naive MAE; windows whose scale is 0 are
    skipped (a constant history), and the result is NaN if every window is."""
    if scale is None:
        raise ValueError("mase needs the in-sample scale of each window")
    scale = np.asarray(scale, dtype="float64").reshape(-1)
    ok = np.isfinite(scale) & (scale > 0)
    if not ok.any():
        return math.nan
    errors = np.abs(actual[ok] - forecast[ok]) / scale[ok, None]
    return float(np.mean(errors))


METRICS = {"mae": mae, "rmse": rmse, "smape": smape, "mase": mase}


def mase_scale(history: np.ndarray, season: int) -> float:
    """Mean |x_t − x_{t−m}| over a history (m = season, or 1 if the history is too short); 0 (no
    scale, as for a constant history) below 1e-10 of the history's largest value: that is the
    rounding of values computed to repeat exactly each season, and MASE divided by it went to 1e20.

    Example:
        >>> waves = 100 + 10 * np.sin(np.arange(48) * 2 * np.pi / 12)  # exactly seasonal, up to rounding
        >>> mase_scale(waves, 12), round(mase_scale(waves, 1), 3)
        (0.0, 3.298)
    """
    m = season if len(history) > season else 1
    if len(history) <= m:
        return math.nan
    scale = float(np.mean(np.abs(history[m:] - history[:-m])))
    return 0.0 if scale <= 1e-10 * float(np.max(np.abs(history))) else scale


def score(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> dict[str, float | None]:
    """All metrics at once, NaN written as None so the result is valid JSON."""
    out: dict[str, float | None] = {}
    for name, fn in METRICS.items():
        value = fn(actual, forecast, scale)
        out[name] = value if math.isfinite(value) else None
    return out


def quantile_scores(
    actual: np.ndarray, forecast: np.ndarray, levels: tuple[float, ...], scale: np.ndarray | None = None
) -> dict[str, float | None]:
    """Interval coverage and pinball loss of quantile forecasts.

    Args:
        actual: (n, horizon).
        forecast: (n, horizon, quantiles), sorted along the last axis.
        levels: the quantile levels, increasing.
        scale: one MASE scale per window; adds `scaled_pinball` (pinball over the scale).

    Returns:
        `coverage`: the share of actuals inside [lowest, highest] quantile; `nominal`: that
        interval's nominal coverage (highest − lowest level); both None for one level;
        `pinball`: mean pinball loss over windows, steps and levels; `scaled_pinball` when
        `scale` is given.

    Example:
        >>> quantile_scores(np.array([[1.0]]), np.array([[[0.0, 1.0, 2.0]]]), (0.1, 0.5, 0.9))["coverage"]
        1.0
    """
    q = np.asarray(levels, dtype="float64")
    error = actual[..., None] - forecast
    loss = np.maximum(q * error, (q - 1.0) * error)
    inside = (actual >= forecast[..., 0]) & (actual <= forecast[..., -1])
    interval = len(q) > 1  # one level (--quantiles 0.5) has a loss but no interval to be inside
    out: dict[str, float | None] = {
        "coverage": float(np.mean(inside)) if interval else None,
        "nominal": float(q[-1] - q[0]) if interval else None,
        "pinball": float(np.mean(loss)),
    }
    if scale is not None:
        scale = np.asarray(scale, dtype="float64").reshape(-1)
        ok = np.isfinite(scale) & (scale > 0)
        out["scaled_pinball"] = float(np.mean(loss[ok] / scale[ok, None, None])) if ok.any() else None
    return out
