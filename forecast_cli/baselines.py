"""Every statistical forecast, behind one signature: naive, seasonal naive, ETS and ETS+Theta.

Each method is `method(history, horizon, season, log=False, params=MISSING) -> (horizon,)`:
`history` the values in time order, `season` the steps in a cycle, `log` whether the series
are modelled on a log scale, `params` fitted parameters (ETS only; `MISSING`: fit them here). A
new method is a function with that signature, added to `METHODS`; `forecasts` runs any of them
over many histories. The LSTM is blended with one of them (`--baseline`, weighted by `--blend`).

`snaive` repeats each series' last season. `ets` is damped-trend exponential smoothing with an
additive season (Holt-Winters), on the model's own scale: on log(1 + y) when the series are
modelled on a log scale (`windows.signed_log`, defined below zero too), so that the season and
the trend are multiplicative on the values.

Its smoothing parameters are fitted per series by statsmodels (`fit_ets`, in `train`; initial
states by statsmodels' heuristic from the first seasons), and saved in the manifest as four
numbers. `ets_forecast` runs the same recursion with saved parameters in plain NumPy, so that
`predict` needs no optimiser and no statsmodels import: 0.2 to 3 ms a series instead of 12 to
35 ms (checked against statsmodels in the tests).

`ets+theta`, the default partner, is the mean of that ETS forecast and the Theta method's
(statsmodels' `ThetaModel` with its defaults: the season taken out by classical decomposition
where a test finds it, multiplicative for positive series; simple exponential smoothing plus half
a straight line's slope). Two different models averaged are steadier than either: a forecast
combination as the M competitions' benchmarks use; on the suite's holdouts it beat ETS alone as
the partner on every set and seed where validation shipped the same kind of forecast with either
(`bench/RESULTS.md`). Theta's one smoothing parameter is fitted in `train` and saved beside
ETS's; `theta_forecasts` recomputes the rest (season, slope, level) from the history in NumPy,
matching statsmodels to 1e-10.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Callable

import numpy as np

from forecast_cli.config import TrainConfig
from forecast_cli.windows import signed_exp, signed_log

MISSING = "missing"  # no ETS parameters saved for a series: fit them where they are needed
ETS_MIN_VALUES = 10  # fewer values than this: seasonal naive (the heuristic needs 10)
ETS_KEYS = ("alpha", "beta", "gamma", "phi")  # level, trend and season smoothing; trend damping
THETA_KEY = "theta"  # Theta's smoothing parameter, saved beside ETS's for the ETS+Theta partner
_LINE_FIT = np.linalg.pinv(np.c_[np.ones(10), np.arange(10) + 1.0])  # least squares: intercept, slope


def ets_seasonal(length: int, season: int) -> bool:
    """Whether a history of `length` values can carry a seasonal component: two full seasons and,
    seasonally adjusted, at least `ETS_MIN_VALUES` (the heuristic initialisation loses half a
    season at each end).

    Example:
        >>> ets_seasonal(22, 4), ets_seasonal(23, 12), ets_seasonal(100, 1)
        (True, False, False)
    """
    return season > 1 and length >= max(2 * season, _seasonal_min_values(season))


def _seasonal_min_values(season: int) -> int:
    """Values a seasonal heuristic initialisation needs: 10 left after losing half a season at each end."""
    return ETS_MIN_VALUES + 2 * (season // 2)


def _model_scale(history: np.ndarray, log: bool) -> np.ndarray | None:
    """The history on the scale ETS models (`signed_log` with `log`); None where ETS does not apply."""
    values = np.asarray(history, dtype="float64")
    if len(values) < ETS_MIN_VALUES or not np.isfinite(values).all():
        return None
    return signed_log(values) if log else values


def fit_ets(history: np.ndarray, season: int, log: bool = False) -> dict[str, float] | None:
    """Smoothing parameters of damped-trend ETS fitted to one history by statsmodels, or None
    where the history is too short, not finite, or the fit fails."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    values = _model_scale(history, log)
    if values is None:
        return None
    seasonal = ets_seasonal(len(values), season)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # convergence notes per series; the result is checked below
        try:
            fit = ExponentialSmoothing(
                values, trend="add", damped_trend=True, seasonal="add" if seasonal else None,
                seasonal_periods=season if seasonal else None, initialization_method="heuristic",
            ).fit(use_brute=False)  # a grid search first tripled the time for no gain
        except (ValueError, np.linalg.LinAlgError):
            return None
    params = fit.params
    found = {
        "alpha": params["smoothing_level"], "beta": params["smoothing_trend"],
        "gamma": params["smoothing_seasonal"] if seasonal else 0.0, "phi": params["damping_trend"],
    }
    found = {key: float(value) for key, value in found.items()}
    return found if all(math.isfinite(v) for v in found.values()) else None


def _initial_states(values: np.ndarray, season: int, seasonal: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level, trend and seasonal effects before the first value of each row of `values` (histories
    of one length, (n, length)), by statsmodels' heuristic (Hyndman and Athanasopoulos, FPP3 2.6):
    a centred moving average over the first seasons gives the seasonal effects; a line through its
    first 10 values, the level and trend. Returns (n,), (n,) and (n, season) arrays ((n, 0) when not
    seasonal). Every row gets the numbers it gets alone, bit for bit: the operations across rows
    are elementwise, and the moving average and the line run row by row."""
    n = len(values)
    adjusted = values
    effects = np.zeros((n, 0))
    if seasonal:
        cycles = _cycles(values.shape[1], season)
        first = values[:, : season * cycles]
        kernel = np.full(season, 1.0 / season)
        means = np.stack([np.convolve(row, kernel, mode="valid") for row in first])  # x[j : j + season]
        if season % 2 == 0:  # a 2 x m average, centred on a value
            means = (means[:, :-1] + means[:, 1:]) / 2.0
        trend = np.full(first.shape, np.nan)
        trend[:, season // 2 : season // 2 + means.shape[1]] = means
        padded = np.full((n, cycles * season), np.nan)
        padded[:, : first.shape[1]] = first - trend
        effects = np.nanmean(padded.reshape(n, cycles, season), axis=1)
        effects -= effects.mean(axis=1, keepdims=True)
        adjusted = means
    line = np.array([_LINE_FIT @ row for row in adjusted[:, :10]]).reshape(n, 2)
    return line[:, 0], line[:, 1], effects


def ets_states(values: np.ndarray, params: dict[str, float], season: int,
               one_step: list[float] | None = None) -> tuple[float, float, np.ndarray]:
    """Level, trend and the last season's effects after running the smoothing recursion over
    `values` (already on the model's scale) from the heuristic initial states. `one_step`, if
    given, receives the recursion's forecast of each value before seeing it."""
    seasonal = ets_seasonal(len(values), season)
    level, trend, effects = _initial_states(values[None, :], season, seasonal)
    states = list(effects[0]) if seasonal else None
    level, trend = _smooth(values.tolist(), float(level[0]), float(trend[0]), states,
                           *(params[key] for key in ETS_KEYS), one_step)
    return level, trend, np.array(states[-season:] if states is not None else [])


def _smooth(columns: Iterable[Any], level: Any, trend: Any, effects: list[Any] | None, alpha: Any, beta: Any,
            gamma: Any, phi: Any, one_step: list[Any] | None = None) -> tuple[Any, Any]:
    """The damped-trend smoothing recursion over the values in `columns`, from `level`, `trend`
    and (a seasonal model) the first season's `effects`, to which each step appends its own.
    Floats for one series, or arrays for a group of series of one length (a column of values a
    step, one parameter a series): each operation is then elementwise, so every series gets the
    same numbers as alone. Returns the last level and trend; `one_step` receives the forecast of
    each value before seeing it."""
    for k, y in enumerate(columns):
        effect = effects[k] if effects is not None else 0.0
        expected = level + phi * trend  # the level this step, before seeing y
        if one_step is not None:
            one_step.append(expected + effect)
        new_level = alpha * (y - effect) + (1 - alpha) * expected
        if effects is not None:
            effects.append(gamma * (y - expected) + (1 - gamma) * effect)
        trend = beta * (new_level - level) + (1 - beta) * phi * trend
        level = new_level
    return level, trend


def ets_one_step(history: np.ndarray, params: dict[str, float] | None, season: int, log: bool = False) -> np.ndarray:
    """`ets_forecast(history[:k], params, 1, season, log)[0]` for every k from 0 to len(history),
    from a few runs of the recursion instead of one run per k (for checking many values one step
    ahead): the prefixes that start from the same heuristic initial states (`_start`) share one
    run, over the longest of them, which forecasts each of their ends before seeing it. NaN where
    the prefix is too short for ETS, `params` is None or the forecast is not finite: compute
    those with `ets_forecast` (its seasonal naive).

    Example:
        >>> y = np.tile([10.0, 20.0, 30.0, 20.0], 8)
        >>> p = {"alpha": 0.5, "beta": 0.1, "gamma": 0.1, "phi": 0.98}
        >>> bool(ets_one_step(y, p, 4)[30] == ets_forecast(y[:30], p, 1, 4)[0])
        True
    """
    return ets_one_steps([history], [params], season, log)[0]


def ets_one_steps(histories: list[np.ndarray], params: Sequence[dict[str, float] | None], season: int,
                  log: bool = False) -> list[np.ndarray]:
    """`ets_one_step` of many histories, the same numbers bit for bit: the histories of one length
    run each shared prefix's recursion together, each step an array operation over them (as
    `ets_forecasts` does), where a run a series cost 0.4 ms in `detect`."""
    out = [np.full(len(history) + 1, np.nan) for history in histories]
    for length, rows, values, smoothing in _scaled_groups(histories, params, log):
        phi = smoothing[-1]
        starts: dict[tuple[bool, int], list[int]] = {}
        for k in range(ETS_MIN_VALUES, length + 1):
            starts.setdefault(_start(k, season), []).append(k)
        result = np.full((len(rows), length + 1), np.nan)
        with np.errstate(all="ignore"):
            for ends in starts.values():
                steps: list[np.ndarray] = []
                level, trend, effects = _smoothed(values[:, : ends[-1]], smoothing, season, steps)
                steps.append(level + phi * trend + (effects[-season] if effects is not None else 0.0))
                forecast = np.stack(steps, axis=1)[:, ends]
                result[:, ends] = signed_exp(forecast) if log else forecast
        result[~np.isfinite(result)] = np.nan
        for j, i in enumerate(rows):
            out[i] = result[j]
    return out


class EtsSteps:
    """ETS's one-step forecasts of histories that grow a value at a time, each the same numbers
    bit for bit as `ets_forecast(history, params, 1, season, log)[0]` of the history so far, from
    one step of the recursion a value instead of a run over the whole history: `detect`
    forecasts each checked value from the history before it, whose newest values it may replace,
    and a run for each cost it half its time on 5-minute data (a day of checked values, three
    weeks of history).

    It holds the state after each history's values so far (level, trend, the season's effects
    ahead in a ring), for every history at once. A history ETS does not follow to `end` values
    (no parameters, too short, a value not finite, or a heuristic start (`_start`) that still
    changes as it grows) forecasts NaN: the caller runs `ets_forecast` (its fallback) there."""

    def __init__(self, histories: list[np.ndarray], params: Sequence[dict[str, float] | None], season: int,
                 log: bool, end: Sequence[int]) -> None:
        n, self.log = len(histories), log
        self.followed = np.zeros(n, dtype=bool)
        self.seasonal = np.zeros(n, dtype=bool)
        self.level, self.trend = np.full(n, np.nan), np.full(n, np.nan)
        self.smoothing = np.full((len(ETS_KEYS), n), np.nan)
        # a slot per step of the season where some history is long enough for a seasonal ETS
        # (a season longer than the histories, a hand-edited manifest's, allocates one)
        width = season if any(ets_seasonal(len(h), season) for h in histories) else 1
        self.ring = np.zeros((n, width))
        self.count = np.array([len(h) for h in histories], dtype=int)
        for length, rows, values, smoothing in _scaled_groups(histories, params, log):
            # The start depends on the length only up to five seasons (`_cycles`), growing with it:
            # the same start at both ends holds the whole way.
            keep = np.array([_start(length, season) == _start(end[i], season) for i in rows])
            if not keep.any():
                continue
            rows = np.asarray(rows)[keep]
            with np.errstate(all="ignore"):
                level, trend, effects = _smoothed(values[keep], tuple(p[keep] for p in smoothing), season)
            self.followed[rows], self.level[rows], self.trend[rows] = True, level, trend
            self.smoothing[:, rows] = np.stack([p[keep] for p in smoothing])
            if effects is not None:  # the next `season` effects, the one for step k at k % season
                self.seasonal[rows] = True
                ahead = np.stack(effects[-season:], axis=1)
                self.ring[rows[:, None], (length + np.arange(season)) % season] = ahead

    def forecast(self, after: np.ndarray | None = None) -> np.ndarray:
        """Each history's one-step forecast (NaN where not followed or not finite), after one
        more value each (`after`, by history) when given, which the state does not keep."""
        level, trend, count = self.level, self.trend, self.count
        if after is not None:
            level, trend, _, count = self._stepped(after)
        phi = self.smoothing[3]
        # The next step's effect: not the slot a step `after` writes, as a seasonal model's season is 2 or more.
        with np.errstate(all="ignore"):
            forecast = level + phi * trend + self._effect(count)
            if self.log:
                forecast = signed_exp(forecast)
        return np.where(self.followed & np.isfinite(forecast), forecast, np.nan)

    def append(self, values: np.ndarray) -> None:
        """Grow every history by a value (by history)."""
        self.level, self.trend, written, count = self._stepped(values)
        rows = np.flatnonzero(self.seasonal)
        self.ring[rows, self.count[rows] % self.ring.shape[1]] = written[rows]
        self.count = count

    def _stepped(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The level, trend, the effect written and the count after one more value: `_smooth`'s
        step, operation for operation."""
        y = np.asarray(values, dtype="float64")
        if self.log:
            y = signed_log(y)
        alpha, beta, gamma, phi = self.smoothing
        effect = self._effect(self.count)
        with np.errstate(all="ignore"):
            expected = self.level + phi * self.trend
            new_level = alpha * (y - effect) + (1 - alpha) * expected
            written = gamma * (y - expected) + (1 - gamma) * effect
            trend = beta * (new_level - self.level) + (1 - beta) * phi * self.trend
        return new_level, trend, written, self.count + 1

    def _effect(self, count: np.ndarray) -> np.ndarray:
        """Each history's seasonal effect for the step after `count` values (0 without a season)."""
        return np.where(self.seasonal, self.ring[np.arange(len(count)), count % self.ring.shape[1]], 0.0)


def _start(length: int, season: int) -> tuple[bool, int]:
    """What a history's heuristic initial states (`_initial_states`) depend on besides its first
    values: whether it is seasonal, and how many of its first values the seasonal averages read
    (none but the first 10 otherwise). Two prefixes of one history with the same start begin
    their recursions alike."""
    if not ets_seasonal(length, season):
        return False, ETS_MIN_VALUES
    return True, min(length, season * _cycles(length, season))


def _cycles(length: int, season: int) -> int:
    """Seasons of a seasonal history that its initial seasonal effects are averaged over: up to
    five, and enough for the heuristic's values (`_seasonal_min_values`)."""
    return max(min(5, length // season), math.ceil(_seasonal_min_values(season) / season))


def ets_forecast(history: np.ndarray, params: dict[str, float] | None, horizon: int, season: int,
                 log: bool = False) -> np.ndarray:
    """The forecast of damped-trend ETS with the given smoothing parameters, run over the whole
    history from the heuristic initial states; seasonal naive's where `params` is None, the
    history does not suit ETS, or the result is not finite.

    Example:
        >>> y = np.tile([10.0, 20.0, 30.0, 20.0], 6) * np.linspace(1.0, 1.5, 24)
        >>> forecast = ets_forecast(y, {"alpha": 0.5, "beta": 0.1, "gamma": 0.1, "phi": 0.98}, 4, 4, log=True)
        >>> bool(forecast[2] > forecast[1] > forecast[0])
        True
    """
    fallback = seasonal_naive(np.asarray(history, dtype="float64"), horizon, season)
    values = _model_scale(history, log)
    if params is None or values is None:
        return fallback
    with np.errstate(all="ignore"):
        level, trend, last = ets_states(values, params, season)
        # h steps ahead: level + (phi + ... + phi^h) x trend + the effect of that point in the season
        forecast = level + np.cumsum(params["phi"] ** np.arange(1, horizon + 1)) * trend
        if len(last):
            forecast = forecast + last[np.arange(horizon) % season]
        if log:
            forecast = signed_exp(forecast)
    return forecast if np.isfinite(forecast).all() else fallback


def ets_forecasts(histories: list[np.ndarray], params: Sequence[dict[str, float] | None], horizon: int, season: int,
                  log: bool = False) -> np.ndarray:
    """`ets_forecast` of many histories with known parameters, (n, horizon): the same numbers,
    bit for bit, from one run of the recursion (`_smooth`) per group of histories of one length,
    each step an array operation over the group, where a loop over the series in Python cost
    0.25 ms a series at predict time.

    Example:
        >>> y = np.tile([10.0, 20.0, 30.0, 20.0], 6) * np.linspace(1.0, 1.5, 24)
        >>> p = {"alpha": 0.5, "beta": 0.1, "gamma": 0.1, "phi": 0.98}
        >>> bool((ets_forecasts([y, y * 2], [p, p], 4, 4, True)[1] == ets_forecast(y * 2, p, 4, 4, True)).all())
        True
    """
    out = np.full((len(histories), horizon), np.nan)
    done = np.zeros(len(histories), dtype=bool)
    for _, rows, values, smoothing in _scaled_groups(histories, params, log):
        done[rows] = True
        phi = smoothing[-1]
        with np.errstate(all="ignore"):
            level, trend, effects = _smoothed(values, smoothing, season)
            forecast = level[:, None] + np.cumsum(phi[:, None] ** np.arange(1, horizon + 1), axis=1) * trend[:, None]
            if effects is not None:
                last = np.stack(effects[-season:], axis=1)
                forecast = forecast + last[:, np.arange(horizon) % season]
            if log:
                forecast = signed_exp(forecast)
        for j, i in enumerate(rows):
            good = np.isfinite(forecast[j]).all()
            out[i] = forecast[j] if good else seasonal_naive(np.asarray(histories[i], dtype="float64"), horizon, season)
    for i in np.flatnonzero(~done):  # no parameters, or a history ETS does not suit: its fallback
        out[i] = ets_forecast(histories[i], params[i], horizon, season, log)
    return out


def _smoothed(values: np.ndarray, smoothing: tuple[np.ndarray, ...], season: int,
              one_step: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, list[np.ndarray] | None]:
    """The smoothing recursion over histories of one length at once (rows of `values`, on the
    model's scale), from each one's heuristic initial states, with each one's parameters
    (`smoothing`: arrays in ETS_KEYS order): the last level and trend, and the seasonal effects
    a column per step (None without a season). `one_step` as for `_smooth`."""
    seasonal = ets_seasonal(values.shape[1], season)
    level, trend, first = _initial_states(values, season, seasonal)
    effects = list(first.T) if seasonal else None
    level, trend = _smooth(values.T, level, trend, effects, *smoothing, one_step)
    return level, trend, effects


def _scaled_groups(histories: list[np.ndarray], params: Sequence[dict[str, float] | None],
                   log: bool) -> Iterator[tuple[int, list[int], np.ndarray, tuple[np.ndarray, ...]]]:
    """The histories that have parameters and suit ETS (`_model_scale`), by length: each length,
    the histories' positions, their values on the model's scale as rows, computed a length at a
    time (the same numbers as `_model_scale` of each, element by element), and their smoothing
    parameters as arrays in ETS_KEYS order."""
    groups: dict[int, list[int]] = {}
    for i, (history, p) in enumerate(zip(histories, params, strict=True)):
        if p is not None and len(history) >= ETS_MIN_VALUES:
            groups.setdefault(len(history), []).append(i)
    for length, rows in groups.items():
        values = np.stack([np.asarray(histories[i], dtype="float64") for i in rows])
        finite = np.isfinite(values).all(axis=1)
        if not finite.all():
            rows, values = [i for i, ok in zip(rows, finite) if ok], values[finite]
        if rows:
            smoothing = tuple(np.array([params[i][key] for i in rows]) for key in ETS_KEYS)
            yield length, rows, signed_log(values) if log else values, smoothing


def naive(history: np.ndarray, horizon: int, season: int = 1, log: bool = False, params: Any = MISSING) -> np.ndarray:
    """Repeat the last value.

    Example:
        >>> naive(np.array([1.0, 2.0, 3.0]), 2)
        array([3., 3.])
    """
    return np.repeat(history[-1], horizon).astype("float64")


def seasonal_naive(history: np.ndarray, horizon: int, season: int, log: bool = False,
                   params: Any = MISSING) -> np.ndarray:
    """Repeat the last season's values (the last value when the history is shorter than a season).

    Example:
        >>> seasonal_naive(np.array([1.0, 2.0, 3.0, 4.0]), 3, 2)
        array([3., 4., 3.])
    """
    if season <= 1 or len(history) < season:
        return naive(history, horizon)
    last = history[-season:]
    return np.array([last[k % season] for k in range(horizon)], dtype="float64")


def ets(history: np.ndarray, horizon: int, season: int, log: bool = False, params: Any = MISSING) -> np.ndarray:
    """Damped-trend ETS with the given smoothing parameters (`MISSING`: fitted to this history
    here; None: seasonal naive, as for a history ETS does not suit)."""
    if params == MISSING:
        params = fit_ets(history, season, log)
    return ets_forecast(history, params, horizon, season, log)


def fit_theta(history: np.ndarray, season: int) -> float | None:
    """The smoothing parameter of the Theta method fitted to one history by statsmodels'
    `ThetaModel` (its defaults: seasonally adjusted by classical decomposition where a test finds
    the season, multiplicative for positive series), or None where the history is too short, not
    finite, or the fit fails."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    values = np.asarray(history, dtype="float64")
    if len(values) < ETS_MIN_VALUES or not np.isfinite(values).all():
        return None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            alpha = ThetaModel(values, period=season if season > 1 else None,
                               deseasonalize=_theta_seasonal(len(values), season)).fit().params["alpha"]
        except (ValueError, np.linalg.LinAlgError):
            return None
    return float(alpha) if 0.0 < alpha <= 1.0 else None


def _theta_seasonal(length: int, season: int) -> bool:
    """Whether Theta may adjust for the season: classical decomposition needs two full seasons."""
    return season > 1 and length >= 2 * season


def _long_season(length: int, season: int) -> bool:
    """Whether Theta's seasonal test and moving average over a history of `length` values go by a
    Fourier transform and a convolution a row rather than by a sum a lag (or weight) over every
    row: where the season is long against the transform's cost (5-minute and 1-minute data's
    day), the sums cost season x length, 8 ms a 5-minute series of three weeks, which `detect`
    pays for each value it checks; for short seasons the sums are the faster. By the history's
    shape alone, so that a series gets the same numbers whichever series are beside it.

    Example:
        >>> _long_season(120, 24), _long_season(4000, 24), _long_season(2000, 168), _long_season(6048, 288)
        (False, False, True, True)
    """
    return season + 1 > 5 * (length + season).bit_length()


def _season_indices(values: np.ndarray, season: int, multiplicative: np.ndarray) -> np.ndarray:
    """Each row's seasonal index by position (rows, season) by classical decomposition, as
    statsmodels' `seasonal_decompose` computes it: the values against their centred moving average
    over a season (2 x m for an even season), averaged by position, normalised to mean 1 for the
    `multiplicative` rows and to mean 0 for the others."""
    weights = np.full(season + 1, 1.0 / season) if season % 2 == 0 else np.full(season, 1.0 / season)
    if season % 2 == 0:
        weights[[0, -1]] /= 2.0
    rows, n = values.shape
    half = len(weights) // 2
    trend = np.full((rows, n), np.nan)
    if _long_season(n, season):  # row by row in C (symmetric weights: the convolution is the average)
        trend[:, half: n - half] = np.array([np.convolve(row, weights, mode="valid") for row in values]).reshape(rows, -1)
    else:  # a weight at a time over every row
        trend[:, half: n - half] = sum(w * values[:, j: n - len(weights) + 1 + j] for j, w in enumerate(weights))
    detrended = np.where(multiplicative[:, None], values / trend, values - trend)
    padded = np.full((rows, -(-n // season) * season), np.nan)
    padded[:, :n] = detrended
    means = np.nanmean(padded.reshape(rows, -1, season), axis=1)
    centre = means.mean(axis=1, keepdims=True)
    return np.where(multiplicative[:, None], means / centre, means - centre)


def _has_season(values: np.ndarray, season: int) -> np.ndarray:
    """statsmodels' Theta test for a season, by row: the autocorrelation at the season's lag,
    squared and scaled by the sum of the squares below it, against chi-squared(1) at 10%.

    For a long season (`_long_season`) the autocovariances at every lag up to it come from one
    Fourier transform a row (zero-padded past the season, so that they do not wrap round): they
    differ from the sums in the last bits only, and the test is a yes or no."""
    n = values.shape[1]
    centred = values - values.mean(axis=1, keepdims=True)
    denominator = np.einsum("ij,ij->i", centred, centred)
    if _long_season(n, season):
        size = 1 << (n + season).bit_length()  # a power of two past n + season
        spectrum = np.fft.rfft(centred, size, axis=1)
        rho = np.fft.irfft(spectrum.real ** 2 + spectrum.imag ** 2, size, axis=1)[:, : season + 1]
    else:
        rho = np.stack([np.einsum("ij,ij->i", centred[:, : n - k], centred[:, k:]) for k in range(season + 1)], axis=1)
    with np.errstate(all="ignore"):
        rho = rho / denominator[:, None]
        return (denominator > 0) & (n * rho[:, -1] ** 2 / np.sum(rho[:, :-1] ** 2, axis=1) > 2.705543454095404)


def theta_forecast(history: np.ndarray, alpha: float, horizon: int, season: int) -> np.ndarray:
    """The Theta method's forecast (Assimakopoulos and Nikolopoulos; the M3 competition's best)
    with a saved smoothing parameter, in plain NumPy, as statsmodels' `ThetaModel` computes it:
    simple exponential smoothing of the seasonally adjusted values, from the first value, plus
    half the slope of a straight line through them; the season put back (multiplicative for a
    positive series, else additive; only where its test finds the season).

    Example:
        >>> y = np.tile([10.0, 20.0, 30.0, 20.0], 6) + np.arange(24.0)
        >>> forecast = theta_forecast(y, 0.5, 4, 4)
        >>> bool(forecast[2] > forecast[1] > forecast[0])
        True
    """
    return _theta_group(np.asarray(history, dtype="float64")[None, :], np.array([alpha]), horizon, season)[0]


def _theta_group(values: np.ndarray, alpha: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """`theta_forecast` of histories of one length (rows of `values`) at once, (rows, horizon):
    each step an array operation over the rows, where a loop over the series cost 0.5 ms a series."""
    rows, n = values.shape
    multiplicative = values.min(axis=1) > 0
    # the season's indices only where the histories are long enough to test for it: a season
    # longer than the histories (a hand-edited manifest's) allocates nothing
    steps = (n + np.arange(horizon)) % season if _theta_seasonal(n, season) else None
    seasonal = np.zeros(rows, dtype=bool)
    with np.errstate(all="ignore"):
        if steps is not None:
            seasonal = _has_season(values, season)
            indices = _season_indices(values, season, multiplicative)
            # a multiplicative index at or below zero: statsmodels turns to the additive decomposition
            additive_instead = multiplicative & (indices.min(axis=1) <= 0)
            if additive_instead.any():
                multiplicative = multiplicative & ~additive_instead
                indices[additive_instead] = _season_indices(values[additive_instead], season,
                                                            multiplicative[additive_instead])
            position = indices[:, np.arange(n) % season]
            adjusted = np.where(multiplicative[:, None], values / position, values - position)
            values = np.where(seasonal[:, None], adjusted, values)
        t = np.arange(n, dtype="float64") - (n - 1) / 2.0
        # Row by row, not `values @ t`: a matrix product's sums depend on how many rows it is
        # given, so a series' forecast changed with the other series of its length (a part on
        # a cluster against the whole file).
        slope = np.einsum("ij,j->i", values, t) / (t @ t)
        decay = (1.0 - alpha[:, None]) ** np.arange(n - 1, -1, -1)  # each value's weight in the last level
        level = (1.0 - alpha) ** n * values[:, 0] + alpha * np.einsum("ij,ij->i", decay, values)
        ahead = np.arange(horizon) + (1.0 / alpha - (1.0 - alpha) ** n / alpha)[:, None]
        forecast = level[:, None] + 0.5 * slope[:, None] * ahead
        if steps is not None:
            back = indices[:, steps]
            reseasoned = np.where(multiplicative[:, None], forecast * back, forecast + back)
            forecast = np.where(seasonal[:, None], reseasoned, forecast)
    return forecast


def theta_forecasts(histories: list[np.ndarray], alphas: Sequence[float], horizon: int, season: int) -> np.ndarray:
    """`theta_forecast` of many histories (n, horizon), grouped by length."""
    out = np.empty((len(histories), horizon))
    groups: dict[int, list[int]] = {}
    for i, history in enumerate(histories):
        groups.setdefault(len(history), []).append(i)
    for rows in groups.values():
        values = np.stack([np.asarray(histories[i], dtype="float64") for i in rows])
        out[rows] = _theta_group(values, np.array([alphas[i] for i in rows], dtype="float64"), horizon, season)
    return out


def fit_ets_theta(history: np.ndarray, season: int, log: bool = False) -> dict[str, float] | None:
    """The parameters of `ets_theta`: ETS's (`fit_ets`) and, under `THETA_KEY`, Theta's
    (`fit_theta`; left out where it fails, and the forecast is then ETS's alone)."""
    params = fit_ets(history, season, log)
    alpha = fit_theta(history, season) if params is not None else None
    return params if alpha is None else {**params, THETA_KEY: alpha}


def ets_theta_forecast(history: np.ndarray, params: dict[str, float] | None, horizon: int, season: int,
                       log: bool = False) -> np.ndarray:
    """The mean of the ETS forecast (`ets_forecast`) and the Theta forecast (`theta_forecast`,
    on the values themselves: its season is multiplicative for positive series) with saved
    parameters; ETS's alone without Theta's parameter or where Theta's is not finite."""
    forecast = ets_forecast(history, params, horizon, season, log)
    return with_theta(forecast[None, :], [history], [params], horizon, season)[0]


def with_theta(ets_part: np.ndarray, histories: Sequence[np.ndarray], params: Sequence[Any], horizon: int,
               season: int) -> np.ndarray:
    """`ets_part` (n, horizon), ETS's forecasts of `histories`, each averaged with Theta's
    (`theta_forecasts`, all at once) where its `params` hold Theta's parameter and that forecast
    is finite; the other rows as they are."""
    out = np.array(ets_part, dtype="float64")
    rows = [i for i, p in enumerate(params) if isinstance(p, dict) and THETA_KEY in p]
    if rows:
        theta = theta_forecasts([histories[i] for i in rows], [params[i][THETA_KEY] for i in rows], horizon, season)
        good = np.isfinite(theta).all(axis=1)
        picked = np.asarray(rows)[good]
        out[picked] = (out[picked] + theta[good]) / 2.0
    return out


def ets_theta(history: np.ndarray, horizon: int, season: int, log: bool = False, params: Any = MISSING) -> np.ndarray:
    """The mean of ETS and Theta, with the given parameters (`MISSING`: fitted here)."""
    if params == MISSING:
        params = fit_ets_theta(history, season, log)
    return ets_theta_forecast(history, params, horizon, season, log)


Method = Callable[..., np.ndarray]
Mapper = Callable[..., Iterable[Any]]  # `map`'s signature: a function and its arguments' iterables
METHODS: dict[str, Method] = {"naive": naive, "snaive": seasonal_naive, "ets": ets, "ets+theta": ets_theta}
LABELS = {"naive": "naive", "snaive": "seasonal naive", "ets": "ETS", "ets+theta": "ETS+Theta"}  # names in tables
FITS = {"ets": fit_ets, "ets+theta": fit_ets_theta}  # the methods with parameters fitted per series, and their fits


def forecasts(histories: Iterable[np.ndarray], horizon: int, season: int, method: str = "snaive",
              log: bool = False, params: Sequence[Any] | None = None, mapper: Mapper | None = None) -> np.ndarray:
    """The forecast (n, horizon) of each history by one of `METHODS`; `params`, one entry per
    history (`MISSING` for one to fit here), or None to fit every one here. `mapper` spreads the
    ETS fits (`map`'s signature, e.g. `cluster.spread`); the other methods cost too little to send.

    Example:
        >>> forecasts([np.arange(8.0)], 2, 4, "snaive")
        array([[4., 5.]])
    """
    fn, histories, *rest, params = calls(histories, horizon, season, method, log, params)
    if method in FITS and histories and not any(p == MISSING for p in params):  # nothing to fit: all at once
        out = ets_forecasts(histories, params, horizon, season, log)
        return with_theta(out, histories, params, horizon, season) if method == "ets+theta" else out
    apply = mapper if mapper is not None and method in FITS else map
    return np.stack(list(apply(fn, histories, *rest, params)))


def calls(histories: Iterable[np.ndarray], horizon: int, season: int, method: str = "snaive", log: bool = False,
          params: Sequence[Any] | None = None) -> tuple[Method, list[np.ndarray], list[int], list[int], list[bool], list[Any]]:
    """What `forecasts` hands its mapper: the method and its arguments, one entry a history (so
    that a call can be started ahead with the very same arguments, `pool.LocalMapper.ahead`)."""
    histories = [np.asarray(h, dtype="float64") for h in histories]
    n = len(histories)
    return (METHODS[method], histories, [horizon] * n, [season] * n, [log] * n,
            [MISSING] * n if params is None else list(params))


def for_config(histories: Iterable[np.ndarray], config: TrainConfig, method: str | None = None,
               params: Sequence[Any] | None = None, mapper: Mapper | None = None) -> np.ndarray:
    """`forecasts` with a model's horizon, partner season and scale, by `method` (default: its `baseline`)."""
    return forecasts(histories, config.horizon, config.baseline_season, method or config.baseline,
                     config.transform == "log", params, mapper)


def saved_params(ids: Iterable[str], saved: dict[str, Any]) -> list[Any]:
    """Each series' saved ETS parameters; a series without any (one not seen in training) gets
    the median of the saved ones, as the network applies what it learnt from the training series
    to it (`MISSING`, fitted where used, only when none are saved)."""
    params = [saved.get(uid, MISSING) for uid in ids]
    found = [p for p in saved.values() if isinstance(p, dict)]
    if found and MISSING in params:
        typical = {key: float(np.median([p[key] for p in found])) for key in ETS_KEYS}
        thetas = [p[THETA_KEY] for p in found if THETA_KEY in p]
        if thetas:
            typical[THETA_KEY] = float(np.median(thetas))
        params = [typical if p == MISSING else p for p in params]
    return params
