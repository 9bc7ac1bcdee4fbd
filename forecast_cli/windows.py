"""Chronological split, per-series scaling fitted on the training part, and L-to-H windows."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection

import numpy as np


def signed_log(values: np.ndarray) -> np.ndarray:
    """sign(y) · log(1 + |y|): log(1 + y) for every value of 0 or more, and defined for negative
    values too, so that a model trained on positive data still reads a later file that goes below
    zero (a temperature in winter) instead of failing every night until someone retrains.

    Example:
        >>> signed_log(np.array([-np.e + 1.0, 0.0, np.e - 1.0]))
        array([-1.,  0.,  1.])
    """
    return np.sign(values) * np.log1p(np.abs(values))


def signed_exp(values: np.ndarray) -> np.ndarray:
    """The inverse of `signed_log`, clipped so that no value overflows to infinity.

    Example:
        >>> signed_exp(signed_log(np.array([-5.0, 0.0, 3.0])))
        array([-5.,  0.,  3.])
    """
    return np.sign(values) * np.expm1(np.minimum(np.abs(values), 700.0))


@dataclasses.dataclass(frozen=True)
class Scaling:
    """A series' scaling statistics, from its training part only (kept as plain numbers)."""

    mean: float
    scale: float
    log: bool = False  # statistics of signed_log(values / unit): the series is modelled on a log scale
    unit: float = 1.0  # what the values are counted in before the log (`log_unit`)

    def apply(self, values: np.ndarray) -> np.ndarray:
        if self.log:
            values = signed_log(values / self.unit)
        return (values - self.mean) / self.scale

    def invert(self, values: np.ndarray) -> np.ndarray:
        restored = values * self.scale + self.mean
        return signed_exp(restored) * self.unit if self.log else restored


def _columns(scalings: list[Scaling], ndim: int) -> tuple[np.ndarray, ...]:
    """Each scaling's mean, scale and unit as arrays shaped to broadcast over rows of `ndim`
    dimensions (one row per scaling), and which rows are on the log scale."""
    shape = (len(scalings),) + (1,) * (ndim - 1)
    mean, scale, unit = (np.array([getattr(s, key) for s in scalings], dtype="float64").reshape(shape)
                         for key in ("mean", "scale", "unit"))
    return mean, scale, unit, np.array([s.log for s in scalings], dtype=bool)


def apply_rows(scalings: list[Scaling], rows: np.ndarray) -> np.ndarray:
    """`scalings[i].apply(rows[i])` for every row at once: the same numbers, element by element,
    where a call a row cost more than the arithmetic on many series.

    Example:
        >>> s = [Scaling(2.0, 4.0), Scaling(0.5, 2.0, log=True, unit=0.1)]
        >>> rows = np.array([[1.0, 3.0], [0.2, 5.0]])
        >>> bool((apply_rows(s, rows) == np.stack([s[0].apply(rows[0]), s[1].apply(rows[1])])).all())
        True
    """
    mean, scale, unit, log = _columns(scalings, rows.ndim)
    values = np.array(rows, dtype="float64")
    if log.any():
        values[log] = signed_log(values[log] / unit[log])
    return (values - mean) / scale


def invert_rows(scalings: list[Scaling], rows: np.ndarray) -> np.ndarray:
    """`scalings[i].invert(rows[i])` for every row at once, the same numbers (`apply_rows`)."""
    mean, scale, unit, log = _columns(scalings, rows.ndim)
    restored = rows * scale + mean
    if log.any():
        restored[log] = signed_exp(restored[log]) * unit[log]
    return restored


LOG_UNIT_SPAN = 3  # decades a small series' typical value is put above 1 (`log_unit`)
SMALLEST_UNIT = 1e-300  # a unit well above float64's subnormal numbers, so that dividing by it stays finite


def log_unit(values: np.ndarray) -> float:
    """What a series is counted in before its log: 1, unless its typical value (the median of its
    values other than zero) is below 1; then a power of ten that puts that value between 1,000
    and 10,000.

    log(1 + y) is a log only where y is well above 1: there a series and the same series ten
    times larger differ by a constant, which the mean takes off, so the network sees relative
    changes alike at any size. Below 1 it is nearly y itself, and a series of rates around 0.05
    (or of amounts in millions around 1e-6) left the network changes a thousand times smaller
    than the same series in larger units, which it forecast worse (M3 other's holdout in units of
    1e-5: MASE 1.96, against 1.82 as given and now; bench/RESULTS.md). Zeros stay zeros.

    Example:
        >>> log_unit(np.array([120.0, 0.0, 95.0])), log_unit(np.array([0.05, 0.0, 0.07]))
        (1.0, 1e-05)
        >>> log_unit(np.array([5e-324, 1e-320]))  # no smaller than SMALLEST_UNIT
        1e-300
    """
    nonzero = np.abs(values[values != 0])
    typical = float(np.median(nonzero)) if len(nonzero) else 1.0
    if not typical < 1.0:
        return 1.0
    return max(10.0 ** (math.floor(math.log10(typical)) - LOG_UNIT_SPAN), SMALLEST_UNIT)


def fit_scaling(values: np.ndarray, log: bool = False, method: str = "std") -> Scaling:
    """Mean and standard deviation of `values` (of `signed_log(values / log_unit(values))` with
    `log`); a constant series gets a scale that is never 0. With `method="mean"` only the mean is
    taken off (scale 1): on a log scale, differences are then relative changes, alike for every
    series.

    Example:
        >>> fit_scaling(np.array([5.0, 5.0, 5.0]))
        Scaling(mean=5.0, scale=5.0, log=False, unit=1.0)
    """
    unit = 1.0
    if log:
        unit = log_unit(values)
        values = signed_log(values / unit)
    mean = float(np.mean(values))
    if method == "mean":
        return Scaling(mean=mean, scale=1.0, log=log, unit=unit)
    std = float(np.std(values))
    floor = 1e-8 * max(1.0, abs(mean))
    if not std > floor:
        std = max(abs(mean), 1.0)
    return Scaling(mean=mean, scale=std, log=log, unit=unit)


def window_level(inputs: np.ndarray, mode: str, season: int) -> np.ndarray:
    """The level subtracted from each scaled input window.

    Args:
        inputs: scaled windows, shape (n, lookback).
        mode: `none` (0), `last` (the last value), `season` or `snaive` (mean of the last
            season's values).
        season: season length.

    Returns:
        One level per window, shape (n, 1).
    """
    if mode == "none":
        return np.zeros((inputs.shape[0], 1))
    if mode == "last":
        return inputs[:, -1:]
    span = max(1, min(season, inputs.shape[1]))
    return inputs[:, -span:].mean(axis=1, keepdims=True)


def output_base(inputs: np.ndarray, mode: str, season: int, horizon: int) -> np.ndarray:
    """What the network's outputs are added to: the input level, or with `snaive` the seasonal
    naive forecast of the window (its last season repeated), so the network learns corrections.

    Returns:
        Shape (n, horizon).
    """
    if mode != "snaive":
        return np.repeat(window_level(inputs, mode, season), horizon, axis=1)
    m = season if 1 <= season <= inputs.shape[1] else 1
    last = inputs[:, -m:]
    return last[:, np.arange(horizon) % m]


@dataclasses.dataclass(frozen=True)
class Covariates:
    """Covariate columns of every series, and how the network reads them.

    `values[uid]` has shape (n, n_past + n_future): one row per value of the series, then one
    row per horizon step after it when there are future covariates (their known future values;
    the past ones are unused there). `scalings` holds one (global) scaling per column, fitted on
    training parts only.
    """

    values: dict[str, np.ndarray]
    n_past: int
    n_future: int
    scalings: list[Scaling] | None = None


def fit_covariate_scalings(
    covariates: Covariates, lengths: dict[str, int], horizon: int, val_windows: int
) -> list[Scaling]:
    """One z-score per covariate column, from the training part of every series (the rows
    before its validation windows), so no validation or future value shapes the scaling."""
    parts = [covariates.values[uid][: max(2, n - horizon * val_windows)] for uid, n in lengths.items()]
    stacked = np.concatenate(parts) if parts else np.zeros((0, covariates.n_past + covariates.n_future))
    return [fit_scaling(stacked[:, k]) for k in range(stacked.shape[1])]


def _features(target: np.ndarray, cov: np.ndarray | None, n_past: int = 0) -> np.ndarray:
    """Network inputs from level-normalised target windows (m, lookback) and scaled covariate
    windows (m, lookback (+ horizon), columns, the first `n_past` of them past covariates): per
    step [y, covariates..., future flag].

    Covariate windows longer than the lookback carry future covariates: the sequence goes on over
    the horizon with y and past covariates 0, the future covariates' known values, and the flag 1
    (0 over the lookback).
    """
    if cov is None:
        return target[..., None].astype("float32")
    m, lookback = target.shape
    history = np.concatenate([target[..., None], cov[:, :lookback]], axis=-1)
    horizon = cov.shape[1] - lookback
    if not horizon:
        return history.astype("float32")
    history = np.concatenate([history, np.zeros((m, lookback, 1))], axis=-1)
    ahead = np.concatenate(
        [np.zeros((m, horizon, 1 + n_past)), cov[:, lookback:, n_past:], np.ones((m, horizon, 1))], axis=-1
    )
    return np.concatenate([history, ahead], axis=1).astype("float32")


def _scaled(covariates: Covariates, uid: str) -> np.ndarray:
    values = covariates.values[uid]
    return np.stack([s.apply(values[:, k]) for k, s in enumerate(covariates.scalings)], axis=1)


@dataclasses.dataclass(frozen=True)
class WindowSet:
    """Training and validation windows, already scaled and level-normalised."""

    x_train: np.ndarray  # (n, steps, features) float32; steps = lookback (+ horizon), see `_features`
    y_train: np.ndarray  # (n, horizon) float32
    x_val: np.ndarray
    y_val: np.ndarray
    val_ids: list[str]  # the series of each validation window
    val_base: np.ndarray  # (n_val, horizon) what the network's validation outputs are added to
    val_actual: np.ndarray  # (n_val, horizon) the unscaled targets
    val_history: list[np.ndarray]  # the unscaled values before each validation target
    scalings: dict[str, Scaling]
    short: list[str]  # series too short for lookback + horizon
    covariate_scalings: list[Scaling] | None = None
    counts: dict[str, int] = dataclasses.field(default_factory=dict)  # training windows of each series, in order

    @property
    def train_series(self) -> int:
        """The series that give training windows."""
        return len(self.counts)


def make_windows(
    series: dict[str, np.ndarray],
    lookback: int,
    horizon: int,
    val_windows: int = 1,
    max_windows: int = 300,
    window_norm: str = "season",
    season: int = 1,
    log: bool = False,
    scaling: str = "std",
    covariates: Covariates | None = None,
    validate: Collection[str] | None = None,
) -> WindowSet:
    """Split each series by time, fit its scaling on the training part, and cut windows.

    The last `val_windows` blocks of `horizon` values of each series are validation targets;
    training windows end before them. Scaling statistics come from the training part only.

    Args:
        series: each series' values in time order.
        lookback: input length L.
        horizon: output length H (direct multi-step).
        val_windows: validation windows per series, taken from its end.
        max_windows: most recent training windows kept per series. (Drawing them evenly from
            the whole history instead forecast the M4-weekly holdout worse on two seeds of
            three: MASE 2.379 against 2.352 on their mean, bench/RESULTS.md.)
        window_norm: see `window_level`.
        season: season length.
        log: model `signed_log` of the values (log(1 + value) where none is negative).
        scaling: `std` (z-score) or `mean` (take off the mean only); see `fit_scaling`.
        covariates: covariate columns per series (their scalings are fitted here if None).
        validate: the series that give validation windows (None: every series). The others
            still end their training windows before the validation part (`validation_series`).

    Returns:
        A `WindowSet`.

    Example:
        >>> ws = make_windows({"a": np.arange(40.0)}, lookback=8, horizon=4)
        >>> ws.x_train.shape, ws.x_val.shape
        ((25, 8, 1), (1, 8, 1))
    """
    if covariates is not None and covariates.scalings is None:
        lengths = {uid: len(v) for uid, v in series.items()}
        covariates = dataclasses.replace(
            covariates, scalings=fit_covariate_scalings(covariates, lengths, horizon, val_windows))
    span = lookback + (horizon if covariates is not None and covariates.n_future else 0)
    xs, ys, cs, vx, vy, vc, val_ids, val_actual, val_history = [], [], [], [], [], [], [], [], []
    scalings: dict[str, Scaling] = {}
    counts: dict[str, int] = {}
    short: list[str] = []
    for uid, values in series.items():
        n = len(values)
        cutoff = n - horizon * val_windows
        scalings[uid] = fit_scaling(values[:cutoff] if cutoff >= 2 else values, log, scaling)
        if n < lookback + horizon:
            short.append(uid)
            continue
        scaled = scalings[uid].apply(values)
        cov = _scaled(covariates, uid) if covariates is not None else None
        n_train = cutoff - lookback - horizon + 1
        if n_train > 0:
            first = max(0, n_train - max_windows)
            window = np.lib.stride_tricks.sliding_window_view(scaled[: cutoff], lookback + horizon)
            xs.append(window[first:, :lookback])
            ys.append(window[first:, lookback:])
            if cov is not None:
                cov_window = np.lib.stride_tricks.sliding_window_view(cov[:cutoff], lookback + horizon, axis=0)
                cs.append(cov_window[first:].transpose(0, 2, 1)[:, :span])
            counts[uid] = len(window) - first
        for j in range(val_windows if validate is None or uid in validate else 0, 0, -1):
            end = n - (j - 1) * horizon
            start = end - horizon
            if start - lookback < 0:
                continue
            vx.append(scaled[start - lookback : start])
            vy.append(scaled[start:end])
            if cov is not None:
                vc.append(cov[start - lookback : start - lookback + span])
            val_ids.append(uid)
            val_actual.append(values[start:end])
            val_history.append(values[:start])
    x_train = np.concatenate(xs) if xs else np.zeros((0, lookback))
    y_train = np.concatenate(ys) if ys else np.zeros((0, horizon))
    x_val = np.stack(vx) if vx else np.zeros((0, lookback))
    y_val = np.stack(vy) if vy else np.zeros((0, horizon))
    c_train = c_val = None
    n_past = 0
    if covariates is not None:
        n_past, width = covariates.n_past, covariates.n_past + covariates.n_future
        c_train = np.concatenate(cs) if cs else np.zeros((0, span, width))
        c_val = np.stack(vc) if vc else np.zeros((0, span, width))
    val_base = output_base(x_val, window_norm, season, horizon)
    return WindowSet(
        x_train=_features(x_train - window_level(x_train, window_norm, season), c_train, n_past),
        y_train=(y_train - output_base(x_train, window_norm, season, horizon)).astype("float32"),
        x_val=_features(x_val - window_level(x_val, window_norm, season), c_val, n_past),
        y_val=(y_val - val_base).astype("float32"),
        val_ids=val_ids,
        val_base=val_base,
        val_actual=np.stack(val_actual) if val_actual else np.zeros((0, horizon)),
        val_history=val_history,
        scalings=scalings,
        short=short,
        covariate_scalings=covariates.scalings if covariates is not None else None,
        counts=counts,
    )


def merge_windows(sets: list[WindowSet]) -> WindowSet:
    """One window set from the sets of disjoint groups of series (the parts of the data, cut on
    several machines), in the order `make_windows` gives for all the series at once: by series
    id, each series' windows in time order. So training from parts gives the windows, and the
    network, of training on the whole.
    """
    if len(sets) == 1:
        return sets[0]
    # Training windows: each series' are one block of its set; the blocks in id order.
    starts, counts, offset = {}, {}, 0
    for ws in sets:
        for uid, count in ws.counts.items():
            starts[uid], counts[uid] = offset, count
            offset += count
    order = sorted(counts)
    take = (np.concatenate([np.arange(starts[u], starts[u] + counts[u]) for u in order]) if order
            else np.zeros(0, dtype=int))
    val_ids = [uid for ws in sets for uid in ws.val_ids]
    val_order = np.argsort(np.array(val_ids, dtype=str), kind="stable")  # a series' windows stay in time order
    history = [h for ws in sets for h in ws.val_history]

    def joined(name: str, order: np.ndarray) -> np.ndarray:
        return np.concatenate([getattr(ws, name) for ws in sets])[order]

    return WindowSet(
        x_train=joined("x_train", take), y_train=joined("y_train", take),
        x_val=joined("x_val", val_order), y_val=joined("y_val", val_order),
        val_ids=[val_ids[i] for i in val_order], val_base=joined("val_base", val_order),
        val_actual=joined("val_actual", val_order),
        val_history=[history[i] for i in val_order],
        scalings=dict(sorted(((uid, s) for ws in sets for uid, s in ws.scalings.items()), key=lambda item: item[0])),
        short=sorted(uid for ws in sets for uid in ws.short),
        covariate_scalings=sets[0].covariate_scalings, counts={uid: counts[uid] for uid in order},
    )


def padded(values: np.ndarray, lookback: int, season: int) -> np.ndarray:
    """The last `lookback` values of a series, a series shorter than that read as though its
    first season had repeated before it began (each earlier step takes the value of its phase in
    the first season), or its first value where it holds less than a season (or has none).

    Why the season: new series of 6 quarters among M3's and tourism's quarterly series, read 8
    quarters back, were forecast 11% worse than with 6 (MASE 2.14 against 1.93 on tourism's
    holdout, three seeds) when padded by their first value, a flat past the network reads as a
    jump into the season; padded by their first year, 1% better (1.91), and on M3 quarterly 1%
    better than either (bench/RESULTS.md).

    Example:
        >>> padded(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), 8, 4).tolist()
        [3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        >>> padded(np.array([5.0, 6.0, 7.0]), 5, 4).tolist(), padded(np.array([5.0, 6.0, 7.0]), 2, 4).tolist()
        ([5.0, 5.0, 5.0, 6.0, 7.0], [6.0, 7.0])
    """
    if len(values) >= lookback:
        return values[-lookback:]
    before = np.arange(len(values) - lookback, 0)  # the steps before the first value: -k, ..., -1
    if season > 1 and len(values) >= season:
        return np.concatenate([values[before % season], values])
    return np.concatenate([np.full(len(before), values[0]), values])


def prediction_inputs(
    series: dict[str, np.ndarray],
    scalings: dict[str, Scaling],
    lookback: int,
    window_norm: str,
    season: int,
    horizon: int,
    covariates: Covariates | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The network inputs for forecasting each series from its last `lookback` values (and,
    with covariates, their last `lookback` rows and any future rows after them). A series
    shorter than the lookback is padded (`padded`; `TrainConfig.min_history`: the caller decides
    which series may be); covariates have no rows to pad, so with them every series must be long
    enough.

    Returns:
        Inputs of shape (n_series, steps, features) float32 and what the outputs are added
        to, shape (n_series, horizon).

    Example:
        >>> flat = {"a": np.array([5.0, 6.0, 7.0]), "b": np.array([2.0, 3.0])}
        >>> inputs, base = prediction_inputs(flat, {u: Scaling(0.0, 1.0) for u in flat}, 3, "none", 1, 2)
        >>> inputs[..., 0].tolist(), base.tolist()
        ([[5.0, 6.0, 7.0], [2.0, 2.0, 3.0]], [[0.0, 0.0], [0.0, 0.0]])
    """
    last = np.stack([padded(values, lookback, season) for values in series.values()])
    rows = apply_rows([scalings[uid] for uid in series], last)
    cov, n_past = None, 0
    if covariates is not None:
        short = next((uid for uid, v in series.items() if len(v) < lookback), None)
        if short is not None:
            raise ValueError(f"series {short!r} is shorter than the lookback, and covariates cannot be padded")
        ahead = horizon if covariates.n_future else 0
        cov = np.stack([_scaled(covariates, uid)[len(v) - lookback : len(v) + ahead] for uid, v in series.items()])
        n_past = covariates.n_past
    inputs = _features(rows - window_level(rows, window_norm, season), cov, n_past)
    return inputs, output_base(rows, window_norm, season, horizon)


def invert_outputs(
    outputs: np.ndarray, base: np.ndarray, scalings: list[Scaling], levels: tuple[float, ...] = ()
) -> np.ndarray:
    """Undo the output base and the per-series scaling of network outputs.

    Args:
        outputs: (n, horizon), or (n, horizon x quantiles) step-major for a quantile network.
        base: what the outputs are added to, (n, horizon).
        scalings: each row's scaling.
        levels: the quantile levels, if any.

    Returns:
        (n, horizon), or (n, horizon, quantiles) sorted along the last axis so that quantiles
        never cross (sorting is the monotone rearrangement; the scalings are increasing maps).
    """
    restored = outputs.astype("float64")
    if levels:
        restored = restored.reshape(len(restored), base.shape[1], len(levels)) + base[..., None]
    else:
        restored = restored + base
    if len(scalings):
        restored = invert_rows(scalings, restored)
    return np.sort(restored, axis=-1) if levels else restored
