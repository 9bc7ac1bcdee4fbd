"""`forecast detect`: which of each series' latest values the model did not expect, and by how much.

Each checked value is compared with the model's forecast for it from the values before it: a
rolling origin one step back, the first step of exactly what `predict` would have written the step
before (ONNX engine, scaling and blend included), corrected by shares of the model's own errors on
the previous value and on the value one season back: one-step errors repeat, so a forecast that was
300 too low at 05:00 is likely too low at 05:30 too, and on the same morning ramp the next day
(the shares are fitted on the calibration stretch below; 0 where the errors do not repeat). A value is an anomaly when it falls outside a band around that
forecast at `level` (0.99: 99 in 100 ordinary values fall inside):

- the model's own quantiles when it has the pair (1 - level)/2 and (1 + level)/2 (a model trained
  with `--quantiles 0.005,0.995` at level 0.99); no correction is applied then;
- otherwise the model's corrected one-step errors on the values just before the checked ones, found
  the same way (the calibration stretch). Each series' typical error is the median of its absolute
  errors there, so a noisy series gets a wide band and a smooth one a narrow band; how far out the
  band lies, in those units, is the `level` quantile of every series' errors over its typical
  error, pooled so that the tail rests on many errors rather than a few per series.

A value found anomalous is replaced by its forecast in the history of the next origins, so that a
spike does not make the values after it look wrong too. But when the next value agrees with the
forecast from the history that keeps the flagged one (and not with the other), the change was real:
a level shift, or a ramp the model was late for. The history keeps it then: a level shift is flagged
where it starts, and after that only while the model, given the new values, still does not expect
them.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd

from forecast_cli import baselines
from forecast_cli.blend import blend, point_forecast
from forecast_cli.data import ID, TIME, Dataset, with_keys
from forecast_cli.errors import DataError
from forecast_cli.output import Reporter, SilentReporter, counted
from forecast_cli.pipeline import Predictor, Prepared, forecast_series, settled
from forecast_cli.windows import Covariates, Scaling, fit_scaling

DEFAULT_LEVEL = 0.99
# The calibration stretch, per series by default: enough errors in all (pooled over the series)
# for a 0.99 quantile to rest on about 20 of them beyond it, at least MIN per series for its
# typical error, and no more than MAX (the stretch costs one forecast per value).
CALIBRATION_TOTAL = 2000
CALIBRATION_MIN = 20
CALIBRATION_MAX = 500
MIN_ERRORS = 10  # fewer one-step errors than this cannot give a series its typical error
CHUNK = 20_000  # forecasts per call of the network
# and history values per call: the histories of a call are put side by side once (`settled`), and
# a day of checked 1-minute values is 1,440 histories of two weeks each (29 million values)
CHUNK_VALUES = 4_000_000
COLUMNS = (ID, TIME, "actual", "forecast", "lower", "upper", "score", "anomaly")


@dataclasses.dataclass(frozen=True)
class Detection:
    """What `detect` found: one row per checked value, and how the band was made."""

    table: pd.DataFrame  # COLUMNS; score = (actual - forecast) / the band's half-width on that side
    level: float
    quantiles: tuple[float, float] | None  # the model's quantile levels used as the band (None: its errors)
    multiplier: float | None  # errors band: the half-width in typical errors
    calibration: int  # errors band: one-step errors the band was measured on, over every series
    correction: dict[int, float]  # lag -> the share of the one-step error that many steps back added to a forecast
    dataset: Dataset | None  # the data as read (for plots); None on a cluster, whose workers read it
    skipped: int = 0  # series left out as too short to check (--skip-short)
    drawn: pd.DataFrame | None = None  # on a cluster: the recent history (as read) of the series a plot draws

    @property
    def band(self) -> str:
        """Where the band comes from: "quantiles" (the model's) or "errors" (its one-step errors)."""
        return "errors" if self.quantiles is None else "quantiles"

    @property
    def anomalies(self) -> pd.DataFrame:
        """The anomalous rows, their times as text (as the CSV writes them)."""
        texts = self.table[TIME].astype(str)
        return self.table.assign(**{TIME: texts})[self.table["anomaly"]]

    def describe_band(self) -> str:
        """The band in words, for the summary printed on stderr."""
        if self.quantiles is not None:
            low, high = self.quantiles
            return f"the model's {low:g}-{high:g} quantiles"
        return (f"{self.multiplier:.3g} x each series' median one-step error (after the error correction), the "
                f"{self.level:g} quantile of {self.calibration} one-step errors before the checked values")

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary: counts, the band, and every anomaly (with the id columns of a
        model of several, `data.with_keys`, as the table has them)."""
        found = self.anomalies
        keys = [column for column in self.table.columns if column not in COLUMNS]
        return {
            "series": int(self.table[ID].nunique()),
            "skipped": self.skipped,
            "checked": int(self.table["actual"].notna().sum()),
            "missing": int(self.table["actual"].isna().sum()),  # values the data did not have: not judged
            "anomalies": int(len(found)),
            "series_with_anomalies": sorted(found[ID].astype(str).unique().tolist()),
            "level": self.level,
            "band": self.band,
            "band_quantiles": list(self.quantiles) if self.quantiles else None,
            "band_multiplier": self.multiplier,
            "calibration_errors": self.calibration,
            "error_correction": {str(lag): share for lag, share in self.correction.items()},
            "found": [
                {ID: str(row[ID]), **{key: _plain(row[key]) for key in keys}, TIME: row[TIME],
                 "actual": float(row["actual"]), "forecast": float(row["forecast"]), "score": float(row["score"])}
                for _, row in found.iterrows()
            ],
        }


def _plain(value: Any) -> Any:
    """A cell as JSON writes it: a NumPy number as a Python one, a time as its text.

    Example:
        >>> _plain(np.int64(3)), _plain("BREAD/BAKERY"), _plain(pd.Timestamp("2024-01-01"))
        (3, 'BREAD/BAKERY', '2024-01-01 00:00:00')
    """
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def default_calibration(n_series: int) -> int:
    """Calibration values per series: CALIBRATION_TOTAL over the series, within MIN and MAX.

    Example:
        >>> default_calibration(1), default_calibration(7), default_calibration(10_000)
        (500, 286, 20)
    """
    return int(min(CALIBRATION_MAX, max(CALIBRATION_MIN, math.ceil(CALIBRATION_TOTAL / max(1, n_series)))))


def band_quantiles(levels: tuple[float, ...], level: float) -> tuple[float, float] | None:
    """The model's quantile levels that bound a central band at `level`, if it has both.

    Example:
        >>> band_quantiles((0.005, 0.5, 0.995), 0.99), band_quantiles((0.1, 0.5, 0.9), 0.99)
        ((0.005, 0.995), None)
    """
    low = next((q for q in levels if abs(q - (1 - level) / 2) < 1e-9), None)
    high = next((q for q in levels if abs(q - (1 + level) / 2) < 1e-9), None)
    return None if low is None or high is None else (low, high)


class OneStep:
    """One-step forecasts from any number of (series, history) pairs, in chunks: the network's
    first step by the model's own `forecast_series` (scaling and covariates as in `predict`),
    blended with the first step of its baseline by the model's weight."""

    def __init__(self, predictor: Predictor, scalings: dict[str, Scaling], covariates: Covariates | None,
                 ets: dict[str, Any] | None) -> None:
        self.predictor, self.scalings, self.covariates, self.ets = predictor, scalings, covariates, ets
        self.config = predictor.manifest.config

    def __call__(self, pairs: list[tuple[str, np.ndarray]], prefixes: bool = False,
                 ets: np.ndarray | None = None) -> np.ndarray:
        """(n,) point forecasts, or (n, quantiles) for a quantile model, of the value after each
        history. `prefixes`: every history is the start of its series' values, so that ETS can
        forecast them all from one run of its recursion per series. `ets`: ETS's one-step
        forecast of each history, known already (`EtsSteps`; NaN where not known)."""
        config = self.config
        network = dataclasses.replace(config, blend=1.0)
        out = []
        for start, stop in _chunks([len(history) for _, history in pairs]):
            chunk = pairs[start:stop]
            keys = [str(k) for k in range(len(chunk))]  # a history per key: one series may appear many times
            series = {key: history for key, (_, history) in zip(keys, chunk)}
            scalings = {key: self.scalings[uid] for key, (uid, _) in zip(keys, chunk)}
            covariates = None
            if self.covariates is not None:
                covariates = dataclasses.replace(
                    self.covariates, values={key: self.covariates.values[uid] for key, (uid, _) in zip(keys, chunk)})
            forecast = forecast_series(self.predictor.network.predict, network, series, scalings, covariates,
                                       settle=False)[:, :1]
            if config.blend < 1.0:
                known = None if ets is None else ets[start:stop]
                forecast = blend(forecast, self._baseline(chunk, prefixes, known)[:, None], config.blend,
                                 config.quantiles)
            out.append(settled(forecast, series.values(), config)[:, 0])
        return np.concatenate(out)

    def steps(self, histories: dict[str, np.ndarray], end: Iterable[int]) -> baselines.EtsSteps | None:
        """ETS's one-step forecasts of these histories as they grow to `end` values (by series),
        a step at a time; None when the forecast has no ETS in it."""
        config = self.config
        if config.blend >= 1.0 or config.baseline not in baselines.FITS:
            return None
        return baselines.EtsSteps(list(histories.values()), [self.ets[uid] for uid in histories],
                                  config.baseline_season, config.transform == "log", list(end))

    def _baseline(self, pairs: list[tuple[str, np.ndarray]], prefixes: bool, ets: np.ndarray | None = None) -> np.ndarray:
        """The baseline's one-step forecast from each history (the first step of what `predict`
        blends with); `prefixes` and `ets` as for the call."""
        config = self.config
        log, season = config.transform == "log", config.baseline_season
        params = None if self.ets is None else [self.ets[uid] for uid, _ in pairs]
        if config.baseline not in baselines.FITS or not (prefixes or ets is not None):
            return baselines.forecasts([h for _, h in pairs], 1, season, config.baseline, log, params)[:, 0]
        if ets is not None:
            result = np.array(ets, dtype="float64")
        else:
            result = np.full(len(pairs), np.nan)
            longest: dict[str, np.ndarray] = {}
            for uid, history in pairs:
                if len(history) > len(longest.get(uid, ())):
                    longest[uid] = history
            runs = dict(zip(longest, baselines.ets_one_steps(list(longest.values()),
                                                             [self.ets[uid] for uid in longest], season, log)))
            for i, (uid, history) in enumerate(pairs):
                result[i] = runs[uid][len(history)]
        # The histories no shared run or step stands for: a run each, those of one length at once.
        missing = np.flatnonzero(np.isnan(result))
        if len(missing):
            result[missing] = baselines.ets_forecasts([pairs[i][1] for i in missing],
                                                      [self.ets[pairs[i][0]] for i in missing], 1, season, log)[:, 0]
        if config.baseline == "ets+theta":  # Theta from each prefix, prefixes of one length at once
            result = baselines.with_theta(result[:, None], [h for _, h in pairs], params, 1, season)[:, 0]
        return result


def _chunks(lengths: list[int]) -> Iterator[tuple[int, int]]:
    """(start, stop) of consecutive histories of these lengths, at most CHUNK of them and
    CHUNK_VALUES values in all (one at least).

    Example:
        >>> list(_chunks([3_000_000, 2_000_000, 10, 10]))
        [(0, 1), (1, 4)]
    """
    start, total = 0, 0
    for i, length in enumerate(lengths):
        if i > start and (i - start == CHUNK or total + length > CHUNK_VALUES):
            yield start, i
            start, total = i, 0
        total += length
    if start < len(lengths):
        yield start, len(lengths)


def detect(model_dir: str | Path | Predictor, data_path: str | Path, last: int | None = None,
           level: float = DEFAULT_LEVEL, calibration: int | None = None, engine: str = "auto",
           as_of: str | None = None, reporter: Reporter | None = None, skip_short: bool = False) -> Detection:
    """Check the last `last` values of every series in a CSV against the model's forecasts.

    Args:
        model_dir: a directory written by `train` (or a loaded `Predictor`).
        data_path: the data as `predict` takes it, the values to check at the end of each series.
        last: values checked per series (None: the model's horizon).
        level: the band's level, in (0, 1).
        calibration: values before the checked ones whose one-step errors set the band (None:
            `default_calibration`); unused when the model's quantiles give the band.
        engine, as_of: as for `predict`.
        reporter: receives notes.
        skip_short: leave out (with a warning) the series too short to check, instead of failing,
            as long as one is left.

    Returns:
        A `Detection`: one row per checked value, oldest first within each series.
    """
    reporter = reporter or SilentReporter()
    predictor = model_dir if isinstance(model_dir, Predictor) else Predictor(model_dir, engine)
    ready = predictor.prepare(data_path, reporter, as_of, skip_short, checking=True)
    check = Checking.of(predictor.manifest.config, last, level, calibration, len(ready.series))
    series, short = check.checkable(ready.series)
    if short:
        check.leave_out(ready.dataset.source, next(iter(short.items())), len(short), len(ready.series), skip_short,
                        reporter)
    one_step = check.one_step(predictor, ready, series)
    band = Band()
    if not check.quantiles:
        measured = calibration_errors(one_step, series, check, reporter)
        band = band_from(measured, predictor.manifest.config.season, level)
    table = check.judge(one_step, series, band, ready.dataset)
    return Detection(table=table, level=level, quantiles=check.quantiles, multiplier=band.multiplier,
                     calibration=band.errors, correction=band.correction, dataset=ready.dataset,
                     skipped=len(ready.skipped) + len(short))


@dataclasses.dataclass(frozen=True)
class Checking:
    """How the series of one file are checked, set by the model and the flags (`Checking.of`):
    the same for every part of a file checked on a cluster (`cluster_detect`)."""

    config: Any  # the model's TrainConfig
    last: int  # values checked per series
    quantiles: tuple[float, float] | None  # the model's quantiles that make the band, if it has them
    per_series: int  # calibration values per series (0 with a quantile band)

    @classmethod
    def of(cls, config: Any, last: int | None, level: float, calibration: int | None, n_series: int) -> Checking:
        """The checking of a file of `n_series` series (after those shorter than the lookback)."""
        quantiles = band_quantiles(config.quantiles, level)
        per_series = 0 if quantiles else (calibration or default_calibration(n_series))
        return cls(config, config.horizon if last is None else last, quantiles, per_series)

    @property
    def need(self) -> int:
        """Values a series needs to be checked: the lookback, some one-step errors, the checked."""
        return self.config.lookback + self.last + (min(MIN_ERRORS, self.per_series) if self.per_series else 0)

    def checkable(self, series: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
        """The series long enough to check, and the others' lengths by id."""
        short = {uid: len(v) for uid, v in series.items() if len(v) < self.need}
        return {uid: v for uid, v in series.items() if uid not in short}, short

    def leave_out(self, source: object, example: tuple[str, int], count: int, total: int, skip_short: bool,
                  reporter: Reporter) -> None:
        """`count` of a file's `total` series are too short to check (`example` one of them: id,
        values): an error, unless `skip_short` leaves them out with a warning and one is left."""
        if not (skip_short and count < total):
            raise self._short_error(source, example, count, skip_short)
        uid, n = example
        reporter.warn(f"{source}: left out {count} series too short to check (e.g. {uid!r}, {n} values of "
                      f"{self.need}): --skip-short; they are not checked.")

    def _short_error(self, source: object, example: tuple[str, int], count: int, skip_short: bool) -> DataError:
        uid, n = example
        errors = f" + {min(MIN_ERRORS, self.per_series)} to measure the model's one-step errors" if self.per_series else ""
        return DataError(
            f"{source}: series {uid!r} has {counted(n, 'value')}; checking its last {self.last} needs {self.need} (the model's "
            f"lookback {self.config.lookback}{errors} + {self.last}); {count} series {'is' if count == 1 else 'are'} that short"
            + (", every one left in the file" if skip_short else "") + ". Give more history, or check fewer "
            "values with --last" + ("." if skip_short else "; or pass --skip-short to check the others.")
        )

    def one_step(self, predictor: Predictor, ready: Prepared, series: dict[str, np.ndarray]) -> OneStep:
        """The one-step forecaster of these series: a new series is scaled from its history
        before the checked values."""
        scalings = dict(ready.scalings)
        for uid in (u for u in ready.new if u in series):
            scalings[uid] = fit_scaling(series[uid][:-self.last], self.config.transform == "log", self.config.scaling)
        return OneStep(predictor, scalings, ready.covariates, _ets_params(predictor, series, self.last))

    def judge(self, one_step: OneStep, series: dict[str, np.ndarray], band: Band, dataset: Dataset) -> pd.DataFrame:
        """Each series' last values judged against their one-step forecasts and the band: one row
        per checked value (COLUMNS), series by series, oldest first. Every series is judged at
        once, step by step: each series' last values, errors and forecasts are rows of arrays,
        right-aligned (column c is position len - width + c of each series; NaN before a start).
        A checked value the data did not have (filled in as the model's `--fill` fills it) is not
        judged: its row has no actual value, score or flag."""
        config, last = self.config, self.last
        uids = list(series)
        lengths = np.array([len(series[uid]) for uid in uids])
        width = last + max([1, *band.correction])  # the checked values and the steps the corrections look back
        actual, errors, raw = (np.full((len(uids), width), np.nan) for _ in range(3))
        rows_of = dataset.frame.groupby(ID, sort=True).indices  # each series' rows of the frame
        for i, uid in enumerate(uids):
            take = min(width, lengths[i])
            actual[i, width - take:] = series[uid][-take:]
            if dataset.made is not None:
                actual[i, width - last:][dataset.made[rows_of[uid][-last:]]] = np.nan
            if uid in band.measured.errors:  # the calibration stretch's errors; NaN elsewhere (quantile bands: none)
                for target, stretch in ((errors, band.measured.errors[uid]), (raw, band.measured.forecasts[uid])):
                    at = band.measured.starts[uid] - (lengths[i] - width) + np.arange(len(stretch))  # its columns
                    target[i, at[at >= 0]] = stretch[at >= 0]
        half = None if self.quantiles else band.multiplier * np.array([band.typical[uid] for uid in uids])
        # A model on the log scale forecasts no negative value for a history with none (`settled`);
        # so its band stops at zero there too, and a negative value in such a series (a count
        # written as -1 by a broken feed) is outside it.
        floor = None
        if config.transform == "log":
            floor = np.array([series[uid][:-last].min() >= 0 for uid in uids])
        cleaned = {uid: values.copy() for uid, values in series.items()}
        # ETS's part of the forecasts from the cleaned histories, a step of its recursion a value
        # rather than a run over the whole history a value (the network's and Theta's parts are
        # each one computation from the history's values)
        ets = one_step.steps({uid: series[uid][:n - last] for uid, n in zip(uids, lengths)}, lengths)
        flagged = np.zeros(len(uids), dtype=bool)
        lag_1 = band.correction.get(1, 0.0)
        steps = []
        for k in range(last):
            c, ends = width - last + k, lengths - last + k  # the checked value's column and position
            # After a flagged value, also forecast from the history that keeps it: if the next value
            # agrees with that forecast, the change was real (a level shift, a ramp the model was late
            # for) and the history keeps it; otherwise it was a spike and stays replaced.
            kept = np.flatnonzero(flagged)
            pairs = [(uid, cleaned[uid][:t]) for uid, t in zip(uids, ends)]
            pairs += [(uids[i], series[uids[i]][:ends[i]]) for i in kept]
            known = None
            if ets is not None:  # one more value than the state holds: the newest, as replaced or not;
                # the histories that keep a flagged value (NaN) run the recursion over their values
                newest = None if k == 0 else np.array([cleaned[u][t - 1] for u, t in zip(uids, ends)])
                known = np.concatenate([ets.forecast(newest), np.full(len(kept), np.nan)])
            forecast = one_step(pairs, ets=known)
            value = actual[:, c]
            shift = _correction(band.correction, errors, c)
            judged = _judge(forecast[:len(uids)], value, shift, half, config, self.quantiles, floor)
            if len(kept):
                kept_error = actual[kept, c - 1] - raw[kept, c - 1]
                other = _judge(forecast[len(uids):], value[kept], shift[kept] + lag_1 * (kept_error - errors[kept, c - 1]),
                               None if half is None else half[kept], config, self.quantiles,
                               None if floor is None else floor[kept])
                better = judged["anomaly"][kept] & ~other["anomaly"]
                for j in np.flatnonzero(better):
                    i = kept[j]
                    cleaned[uids[i]][ends[i] - 1], errors[i, c - 1] = actual[i, c - 1], kept_error[j]
                for name, values in judged.items():
                    values[kept[better]] = other[name][better]
            raw[:, c] = judged["raw"]
            flagged = judged["anomaly"]
            for i in np.flatnonzero(flagged):
                cleaned[uids[i]][ends[i]] = judged["point"][i]  # its expectation, for the next origins
            if ets is not None and k > 0:  # the value before the checked one is settled now: the state takes it
                ets.append(np.array([cleaned[u][t - 1] for u, t in zip(uids, ends)]))
            errors[:, c] = np.where(flagged, judged["point"], value) - judged["raw"]
            steps.append((value, judged))
        rows = np.concatenate([rows_of[uid][-last:] for uid in uids] + [np.zeros(0, dtype=int)])
        named = {"actual": [value for value, _ in steps]}
        for name, key in (("forecast", "point"), ("lower", "lower"), ("upper", "upper"), ("score", "score"),
                          ("anomaly", "anomaly")):
            named[name] = [judged[key] for _, judged in steps]
        table = pd.DataFrame({ID: np.repeat(np.array(uids, dtype=object), last),
                              TIME: dataset.frame[TIME].iloc[rows].to_numpy(),
                              **{name: np.stack(steps_of, axis=1).ravel() for name, steps_of in named.items()}},
                             columns=list(COLUMNS))  # series by series, oldest first
        return with_keys(table, dataset.keys)


@dataclasses.dataclass(frozen=True)
class Measured:
    """The model's one-step errors on each series' calibration stretch (the values before the
    checked ones), by series: where the stretch starts, its errors and forecasts, and the series'
    largest absolute value (the scale of a series forecast exactly)."""

    starts: dict[str, int] = dataclasses.field(default_factory=dict)
    errors: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    forecasts: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    scales: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(e) for e in self.errors.values())

    def of(self, ids: Iterable[str]) -> Measured:
        """The errors of some of the series (in the order of `ids`; ids without any left out)."""
        ids = [uid for uid in ids if uid in self.errors]
        return Measured(*({uid: getattr(self, f.name)[uid] for uid in ids} for f in dataclasses.fields(Measured)))


def calibration_errors(one_step: OneStep, series: dict[str, np.ndarray], check: Checking,
                       reporter: Reporter | None = None) -> Measured:
    """The model's one-step errors on up to `check.per_series` values before the checked ones of
    each series (after the lookback), each forecast from the values before it."""
    pairs, spans = [], {}
    for uid, values in series.items():
        end = len(values) - check.last
        spans[uid] = range(max(check.config.lookback, end - check.per_series), end)
        pairs += [(uid, values[:t]) for t in spans[uid]]
    if reporter is not None:
        reporter.info(f"Measuring the model's one-step errors on {len(pairs)} values before the checked ones")
    forecast = point_forecast(one_step(pairs, prefixes=True), check.config.quantiles)
    starts, errors, forecasts, start = {}, {}, {}, 0
    for uid, span in spans.items():
        starts[uid], forecasts[uid] = span.start, forecast[start:start + len(span)]
        errors[uid] = series[uid][span.start:span.stop] - forecasts[uid]
        start += len(span)
    return Measured(starts, errors, forecasts, {uid: float(np.max(np.abs(v))) for uid, v in series.items()})


def band_from(measured: Measured, season: int, level: float) -> Band:
    """The band from the calibration errors of every series (in the order of the file's series):
    the error correction fitted to them; each series' typical corrected error and the pooled
    multiplier at `level`."""
    spans = {uid: range(len(e)) for uid, e in measured.errors.items()}
    correction = fit_correction(measured.errors, spans, season)
    typical, ratios = {}, []
    for uid, errors in measured.errors.items():
        corrected = np.abs(errors[1:] - _correction(correction, errors, np.arange(1, len(errors))))
        typical[uid] = _typical_error(corrected, measured.scales[uid])
        ratios.append(corrected / typical[uid])
    multiplier = float(np.quantile(np.concatenate(ratios), level))
    return Band(correction, multiplier, typical, measured)


@dataclasses.dataclass(frozen=True)
class Band:
    """The band's make-up, from the calibration stretch (see the module's docstring); empty for a
    band made of the model's quantiles."""

    # lag -> the share of the one-step error that many steps back added to a forecast
    correction: dict[int, float] = dataclasses.field(default_factory=dict)
    multiplier: float | None = None  # the band's half-width in typical errors
    # each series' typical (median absolute) corrected one-step error
    typical: dict[str, float] = dataclasses.field(default_factory=dict)
    measured: Measured = dataclasses.field(default_factory=Measured)  # the one-step errors it was made of

    @property
    def errors(self) -> int:
        """One-step errors measured."""
        return self.measured.count

    def of(self, ids: Iterable[str]) -> Band:
        """The band for some of the series (a part of the file, on a cluster)."""
        ids = [uid for uid in ids if uid in self.typical]
        return dataclasses.replace(self, typical={u: self.typical[u] for u in ids}, measured=self.measured.of(ids))


def _correction(correction: dict[int, float], errors: np.ndarray, t: int | np.ndarray) -> np.ndarray:
    """What the earlier one-step errors add to the forecasts of positions `t` (one, or an array)
    along the last axis of `errors` (one series, or rows of them): each lag's share of the error
    that many steps back, an unknown one (before the start, or NaN) adding 0."""
    t = np.asarray(t)
    shift = np.zeros(errors[..., t].shape)
    for lag, share in correction.items():
        before = np.where(t - lag >= 0, errors[..., np.maximum(t - lag, 0)], np.nan)
        shift = shift + np.where(np.isfinite(before), share * before, 0.0)
    return shift


def _judge(forecast: np.ndarray, value: np.ndarray, shift: np.ndarray, half: np.ndarray | None, config,
           quantiles: tuple[float, float] | None, floor: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Values against their one-step forecasts (a row each; a row of quantiles for a quantile
    model), each moved by its `shift` (the error correction), and the band: its half-width
    `half` around the point, or the model's `quantiles`; in the rows where `floor` holds, the
    point and the band no lower than zero. Arrays by name: raw (the model's point forecast),
    point (corrected: the forecast written out), lower, upper, score, anomaly."""
    raw = np.array(point_forecast(forecast, config.quantiles), dtype="float64")
    point = raw + shift
    if quantiles:
        lower, upper = (forecast[:, config.quantiles.index(q)] + shift for q in quantiles)
    else:
        lower, upper = point - half, point + half
    if floor is not None:
        point, lower, upper = (np.where(floor, np.maximum(v, 0.0), v) for v in (point, lower, upper))
    score = _score(value, point, lower, upper)
    return {"raw": raw, "point": point, "lower": lower, "upper": upper, "score": score, "anomaly": np.abs(score) > 1.0}


def fit_correction(errors: dict[str, np.ndarray], spans: dict[str, range], season: int) -> dict[int, float]:
    """How much of the one-step error one step back, and one season back, to add to a forecast:
    least squares of each error on those two, pooled over the series (one-step errors repeat: a
    model late on a morning ramp is late on the next value, and on the same ramp the next day).
    Only the previous step where too few errors reach a season back; each share within ±0.99.

    Example:
        >>> rng, e = np.random.default_rng(0), np.zeros(2000)
        >>> for t in range(1, 2000):
        ...     e[t] = 0.8 * e[t - 1] + rng.normal()
        >>> {lag: round(share, 1) for lag, share in fit_correction({"s": e}, {"s": range(2000)}, 1).items()}
        {1: 0.8}
    """
    for lags in ([1, season], [1]) if season > 1 else ([1],):
        rows, targets = [], []
        for uid, span in spans.items():
            e = errors[uid]
            for t in span:
                before = [t - lag for lag in lags]
                if min(before) >= span.start:
                    rows.append([e[b] for b in before])
                    targets.append(e[t])
        if len(rows) >= 10 * len(lags):
            shares, *_ = np.linalg.lstsq(np.asarray(rows), np.asarray(targets), rcond=None)
            return {lag: float(np.clip(share, -0.99, 0.99)) for lag, share in zip(lags, shares)}
    return {}


def _typical_error(errors: np.ndarray, scale: float) -> float:
    """A series' typical one-step error: the median absolute error (robust to an anomaly in the
    calibration stretch), else the mean, else a hair above 0 for a series forecast exactly
    (`scale`: its largest absolute value)."""
    for typical in (float(np.median(errors)), float(np.mean(errors))):
        if typical > 0:
            return typical
    return float(np.finfo("float64").eps * max(1.0, scale))


def _score(value: np.ndarray, point: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """How far outside the band each value is: (value - forecast) over the band's half-width on
    that side; beyond 1 (or below -1) is outside. A band of width 0 gives +-inf for any other value.

    Example:
        >>> _score(np.array([12.0, 9.0, 5.0, 6.0]), np.full(4, 10.0), np.array([8.0, 8.0, 10.0, 10.0]),
        ...        np.array([14.0, 14.0, 10.0, 10.0]))
        array([ 0.5, -0.5, -inf, -inf])
    """
    width = np.where(value >= point, upper - point, point - lower)
    with np.errstate(all="ignore"):
        outside = np.where(value == point, 0.0, np.copysign(np.inf, value - point))
        return np.where(width > 0, (value - point) / width, outside)


def _ets_params(predictor: Predictor, series: dict[str, np.ndarray], last: int) -> dict[str, Any] | None:
    """ETS parameters by series for a model blended with ETS: the saved ones (a new series gets
    their median, as in `predict`), or fitted once per series on the history before the checked
    values when the model saved none; None when the forecast has no ETS part."""
    config = predictor.manifest.config
    if config.baseline not in baselines.FITS or config.blend >= 1.0:
        return None
    saved = predictor.manifest.ets_params()
    if any(isinstance(p, dict) for p in saved.values()):
        return dict(zip(series, baselines.saved_params(series, saved)))
    log = config.transform == "log"
    fit = baselines.FITS[config.baseline]
    return {uid: fit(values[:-last], config.baseline_season, log) for uid, values in series.items()}


ANOMALIES_SHOWN = 20  # rows of detect's table; the output holds every checked value


def farthest(anomalies: pd.DataFrame, most: int) -> pd.DataFrame:
    """The anomalies `detect` shows: all of them in series and time order when they are few,
    else the `most` farthest outside their band (largest |score|) first, so that a night of
    hundreds of anomalies over thousands of series opens with the worst.

    Example:
        >>> rows = pd.DataFrame({"unique_id": ["a", "b", "c"], "score": [1.5, -9.0, 3.0]})
        >>> list(farthest(rows, 3)["unique_id"]), list(farthest(rows, 2)["unique_id"])
        (['a', 'b', 'c'], ['b', 'c'])
    """
    if len(anomalies) <= most:
        return anomalies
    order = anomalies["score"].abs().sort_values(ascending=False, kind="stable").index
    return anomalies.loc[order[:most]]


def plotted_series(table: pd.DataFrame, n: int) -> list[str]:
    """The series `detect --plot` draws: those with anomalies, the one farthest outside its band
    first, then the others in their order, `n` in all.

    Example:
        >>> table = pd.DataFrame({"unique_id": ["a", "a", "b", "c", "c"], "anomaly": [False, False, True, True, False],
        ...                       "score": [0.2, 0.1, 1.5, -4.0, 0.3]})
        >>> plotted_series(table, 2), plotted_series(table, 3)
        (['c', 'b'], ['c', 'b', 'a'])
    """
    flagged = table[table["anomaly"]]
    worst = flagged["score"].abs().groupby(flagged["unique_id"], sort=False).max().sort_values(ascending=False,
                                                                                                  kind="stable")
    first = list(worst.index[:n])
    taken = set(first)
    others = (uid for uid in table["unique_id"].unique() if uid not in taken)
    return first + list(itertools.islice(others, n - len(first)))
