"""`forecast doctor`: what was detected in a CSV, what is wrong or risky, and what it supports."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from forecast_cli.batch import warn_late
from forecast_cli.config import (TrainConfig, data_lookback, intermittent_note, lookback_cut, padded_note,
                                 resolve_settings, rows_needed, zero_shares)
from forecast_cli.data import ID, TARGET, TIME, Written, load_series, season_hint, series_arrays, time_text
from forecast_cli.errors import DataError, ForecastError
from forecast_cli.output import SilentReporter
from forecast_cli.pipeline import ignored_rows, no_values_note, summed_as_one_note
from forecast_cli.timegrid import data_horizon
from forecast_cli.windows import log_unit


@dataclasses.dataclass
class Finding:
    """One line of the report."""

    level: str  # "ok", "note", "warning" or "error"
    text: str


@dataclasses.dataclass
class Report:
    """The findings in reading order, and the error `train` would meet (None when it would run)."""

    findings: list[Finding]
    failure: ForecastError | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


class _AsFindings(SilentReporter):
    """A reporter whose warnings become the report's warnings."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings

    def warn(self, message: str) -> None:
        self.findings.append(Finding("warning", message))


def _fails(findings: list[Finding], error: ForecastError) -> Report:
    findings.append(Finding("error", f"train would fail: {error}"))
    return Report(findings, error)


def largest_horizon(lengths: np.ndarray, season: int) -> int:
    """The largest horizon `train` accepts with the default lookback (0 if none), for series of
    these lengths."""
    best, longest = 0, int(lengths.max())
    for horizon in range(1, longest):
        lookback = data_lookback(horizon, season, lengths)
        if lookback + 2 * horizon <= longest:
            best = horizon
        else:
            break
    return best


def diagnose(
    path: str | Path,
    time_col: str | None = None,
    target_col: str | None = None,
    id_col: str | None = None,
    freq: str | None = None,
    horizon: int | None = None,
    wide: bool = False,
    written: Written = Written(),
    season: int | None = None,
    seasons: tuple[int, ...] = (),
    lookback: int | None = None,
    aggregate: str | None = None,
    as_of: str | None = None,
) -> Report:
    """Check a CSV the way `train` reads it, and list what is wrong or risky.

    Args:
        aggregate: `train`'s `--aggregate` (the rows of each period of `freq` made one).
        as_of: `train`'s `--as-of` (the rows up to this time only).
        season, seasons, lookback: `train`'s `--season` (one, or several: `config.parse_season`)
            and `--lookback`, checked as `train` would use them; None and () as train's defaults.

    Returns:
        Findings in reading order and the error `train` would meet, if any.

    Example:
        >>> diagnose("sample_data/co2_weekly_maunaloa.csv").findings[0].text
        "detected sample_data/co2_weekly_maunaloa.csv: one series, 2284 rows; time='date', target='co2'; ..."
    """
    findings: list[Finding] = []
    try:
        # As `train` reads it with its defaults: every other column of numbers a past covariate,
        # the rows after a series' last value set aside.
        dataset = load_series(path, time_col, target_col, id_col, freq, fill="interpolate", auto_covariates=True,
                              split_future=True, wide=wide, written=written, aggregate=aggregate, as_of=as_of)
    except ForecastError as exc:
        return _fails(findings, exc)
    findings.append(Finding("ok", f"detected {dataset.describe()}"))
    if as_of is not None:
        findings.append(Finding("ok", f"data as of {as_of}: {dataset.after} row(s) after it left out"))
    summed = summed_as_one_note(dataset, aggregate)
    if summed:
        findings.append(Finding("warning", summed))
    set_aside = ignored_rows(dataset, TrainConfig(horizon=1))
    if set_aside:
        findings.append(Finding("warning", set_aside))
    if dataset.empty:
        findings.append(Finding("warning", no_values_note(dataset)))
    missing_cells = dataset.missing_values
    gaps = dataset.filled - missing_cells
    if missing_cells:
        where = "the series columns" if dataset.columns.series else repr(dataset.columns.target_col)
        findings.append(Finding("warning", f"{missing_cells} missing value(s) in {where}; "
                                           "train fills them (--fill interpolate by default, --fill none refuses)"))
    if gaps > 0:
        text = f"{gaps} missing timestamp(s) on the regular grid; train fills them the same way"
        if dataset.first_gap is not None:
            uid, when = dataset.first_gap
            text += f" (the first: {time_text(when)}" + ("" if dataset.columns.id_col is None else f" in {uid!r}") + ")"
        if dataset.gaps_skipped_hour:
            text += (". Every one is at 02:00 on a Sunday: the hour a local clock skips when daylight saving starts. "
                     "Write the times with their UTC offset (03:00+02:00 in Central Europe) or in UTC to have none")
        findings.append(Finding("warning", text))
    series = series_arrays(dataset.frame)
    lengths = np.array([len(v) for v in series.values()])
    shortest, longest = int(lengths.min()), int(lengths.max())
    findings.append(Finding("ok", f"series lengths {shortest} to {longest} (median {int(np.median(lengths))})"))
    lasts = dataset.frame.groupby(ID, sort=True)[TIME].max()
    warn_late(dataset.source, lasts.index.to_numpy(), lasts.to_numpy(), _AsFindings(findings), "last value is",
              dataset.freq)
    constant = [u for u, v in series.items() if np.ptp(v) == 0]
    if constant:
        findings.append(Finding("warning", f"{len(constant)} constant series (e.g. {constant[0]!r}): nothing to learn; "
                                           "their forecast is their level"))
    outliers = {}
    for uid, values in series.items():
        diffs = np.diff(values)
        if len(diffs) < 8:
            continue
        mad = np.median(np.abs(diffs - np.median(diffs)))
        if mad > 0:
            z = np.abs(diffs - np.median(diffs)) / (1.4826 * mad)
            if (z > 8).any():
                outliers[uid] = int((z > 8).sum())
    if outliers:
        uid = max(outliers, key=outliers.get)
        findings.append(Finding("warning", f"{len(outliers)} series with sudden jumps (robust z > 8 on changes), "
                                           f"most in {uid!r} ({outliers[uid]}); check them for errors"))
    negative = (dataset.frame[TARGET] < 0).any()
    small = [uid for uid, values in series.items() if log_unit(values) != 1.0]
    findings.append(Finding("note", "values include negatives: modelled as they are (--transform none)" if negative
                            else "no negative values: modelled on a log scale, log(1 + value) (--transform auto)"
                            + (f"; {len(small)} series of values below 1 (e.g. {small[0]!r}) first counted in a "
                               "power of ten that puts them in the thousands" if small else "")))
    intermittent = intermittent_note(list(series), zero_shares(series))
    if intermittent:
        findings.append(Finding("note", intermittent))
    hint = season_hint(dataset, seasons or ((season,) if season else ()))
    if hint:
        findings.append(Finding("warning", hint))
    network_season = season or min(seasons or (dataset.season,))  # the network takes the shortest
    if lookback is None:
        max_h = largest_horizon(lengths, network_season)
        findings.append(Finding("ok", f"largest --lookback that keeps every series forecastable: {shortest}; "
                                      f"largest --horizon with the default lookback: {max_h}"))
    else:
        max_h = max(0, (longest - lookback) // 2)  # a training and a validation horizon after the lookback
        findings.append(Finding("ok", f"largest --lookback that keeps every series forecastable: {shortest}; "
                                      f"largest --horizon with --lookback {lookback}: {max_h}"))
    if max_h == 0:
        return _fails(findings, DataError(
            "no series is long enough for a training and a validation window"
            + (f" after --lookback {lookback}. Use a smaller --lookback, or add history." if lookback else
               ". Add history.")))
    given = horizon is not None
    if not given:
        horizon, what = data_horizon(dataset.time_kind, dataset.freq, dataset.columns.time_col, dataset.step,
                                     dataset.frame[TIME].to_numpy())
    if horizon is None:
        findings.append(Finding("note", "integer steps carry no frequency, so train needs --horizon"))
    else:
        named = f"--horizon {horizon}" if given else f"the default horizon for {what}, {horizon},"
        read = lookback or data_lookback(horizon, network_season, lengths)
        if read + 2 * horizon > longest:
            need = read + 2 * horizon if lookback else rows_needed(read, network_season, horizon, lengths)
            return _fails(findings, DataError(
                f"{named} needs at least {need} rows in the longest series"
                + (f" with --lookback {lookback}" if lookback else "")
                + f", which has {longest}. Use --horizon {max_h} or less"
                + (", or a smaller --lookback." if lookback else ".")))
        if not given:
            findings.append(Finding("note", f"--horizon defaults to {horizon} for {what}"))
        asked = TrainConfig(horizon=horizon, season=season, seasons=seasons, lookback=lookback)
        try:  # what train makes of the settings: the lookback, and any setting the data cannot support
            resolved = resolve_settings(asked, lengths, not negative, dataset.seasons, dataset.source)
        except ForecastError as exc:
            return _fails(findings, exc)
        findings.append(Finding("ok", f"the network reads {resolved.lookback} steps (lookback) to forecast {horizon}; "
                                      f"season {resolved.season}"))
        cut = lookback_cut(asked, resolved, lengths, list(series))
        if cut:
            findings.append(Finding("warning", cut))
        if resolved.min_history:  # the default lookback, longer than the shortest series
            findings.append(Finding("note", padded_note(lengths, list(series), resolved.lookback, resolved.season)))
        unforecastable = int((lengths < resolved.least_history).sum())  # only with --lookback: the default fits
        if unforecastable:
            findings.append(Finding("warning", f"{unforecastable} series shorter than lookback {resolved.lookback} "
                                               "cannot be forecast: predict refuses them (--skip-short leaves them out)"))
        short = int((lengths < resolved.lookback + horizon).sum())
        if short:
            findings.append(Finding("warning", f"{short} series shorter than lookback {resolved.lookback} + horizon "
                                               f"{horizon} give no training windows"))
    if dataset.columns.id_col is not None:
        counts = dataset.frame[ID].value_counts()
        findings.append(Finding("note", f"{len(counts)} series; the smallest has {int(counts.min())} rows"))
    return Report(findings)
