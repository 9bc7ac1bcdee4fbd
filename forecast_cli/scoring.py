"""Scoring forecast files against the actual values that arrived later (`forecast evaluate`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli import metrics
from forecast_cli.data import (ID, KEEP, STDIN, TARGET, TIME, Dataset, Written, load_series, on_grid, repeated_row,
                               series_arrays, time_text, with_keys, written_otherwise, written_why)
from forecast_cli.errors import DataError, UsageError
from forecast_cli.forecast_file import ID_COLUMNS, quantile_levels, read_forecasts


def quantile_row_scores(rows: pd.DataFrame, actual_col: str, with_scale: bool) -> dict[str, float | None]:
    """Coverage and pinball loss of the quantile columns of forecast rows against `actual_col`
    (scaled pinball too with `with_scale`, from the rows' `scale` column); {} without quantiles."""
    forecast, levels = _quantile_arrays(rows)
    if forecast is None:
        return {}
    scale = rows["scale"].to_numpy() if with_scale else None
    return metrics.quantile_scores(rows[actual_col].to_numpy()[:, None], forecast, levels, scale)


def _quantile_arrays(rows: pd.DataFrame) -> tuple[np.ndarray | None, tuple[float, ...]]:
    """The rows' quantile forecasts as (rows, 1, levels), or None without quantile columns, and
    their levels."""
    levels = quantile_levels(rows)
    forecast = rows[list(levels)].to_numpy(dtype="float64")[:, None, :] if levels else None
    return forecast, tuple(levels.values())


@dataclasses.dataclass
class EvaluationResult:
    """A forecast file matched with its actuals, and the scores overall and per series."""

    matched: pd.DataFrame  # unique_id, ds, y, yhat (and scale with a history)
    unmatched_forecasts: int
    unmatched_actuals: int
    # Of those: the rows of a forecast series before its first forecast time or after its last
    # (its history, or values past the horizon: an actuals file is often the whole data), not
    # forecasts that are missing; and the series of the actuals with no forecast at all.
    actuals_outside_forecasts: int
    actuals_within_forecasts: int  # rows of a forecast series between its first and last forecast that have none
    series_without_forecast: list[str]
    examples: list[str]
    overall: dict[str, float | None]
    by_series: pd.DataFrame
    # MASE's scale, each series' in-sample seasonal naive error: from `--history` (HISTORY), from
    # its values before its forecasts in the actuals (ACTUALS), or None (no MASE)
    scale_from: str | None = None


def evaluate(
    forecasts_path: str | Path, actuals_path: str | Path, history_path: str | Path | None = None,
    time_col: str | None = None, target_col: str | None = None, id_col: str | None = None, wide: bool = False,
    written: Written = Written(), freq: str | None = None, aggregate: str | None = None,
) -> EvaluationResult:
    """Score a forecast file written by `predict` against actual values that arrived later.

    Rows are matched on series and timestamp; rows of either file without a partner are counted
    and reported. MASE is computed too (in-sample seasonal naive MAE of each series' history as
    the scale) with the training history, or without it when the actuals hold every forecast
    series' values before its forecasts (an actuals file of the whole data). The actuals and
    history are read with the column roles, `wide`, `written`, `freq` and `aggregate` given (as
    `train` was told them), else detected.

    Example:
        >>> evaluate("forecast.csv", "actuals.csv").overall["mae"] > 0
        True
    """
    try:
        fc = read_forecasts(forecasts_path)
    except DataError:
        if str(actuals_path) != STDIN and _reads_as_forecasts(actuals_path):
            raise UsageError(f"{actuals_path} is a forecast file and {forecasts_path} is not: the forecasts come first. "
                             f"Run forecast evaluate {actuals_path} {forecasts_path} ...") from None
        raise
    # A model of several id columns writes them in its forecasts: actuals that have them are read
    # by them, as `train --id-col store_nbr,family` read its data (others as the flags say).
    carried = fc.attrs.get(ID_COLUMNS, ())
    inferred = id_col is None and not wide and bool(carried) and str(actuals_path) != STDIN  # read once only
    if inferred:
        id_col = ",".join(carried)
    # The forecasts' dates (as `predict` writes them, YYYY-MM-DD) decide the order of the actuals'
    # day-month dates where those allow both: a week of 01/02/2024 .. 07/02/2024 from a day-first
    # source is the first week of February, which the custom of `/` would read as seven months.
    # Read in UTC, and matched so, as the model reads a file with offsets or without: the
    # forecasts of a file without offsets meet actuals with them (a feed that gained its
    # offsets), and the other way round; a time without a zone is taken as UTC, and a file of
    # several offsets (summer and winter time) is read too.
    try:
        forecast_times = pd.to_datetime(fc[TIME], format="ISO8601", utc=True)
    except (ValueError, TypeError):  # integer steps (or no dates: refused below where the actuals have dates)
        forecast_times = None
    expected = None if forecast_times is None else pd.DatetimeIndex(forecast_times).tz_localize(None)

    def read(path: str | Path, fill: str = "interpolate"):
        # KEEP leaves every empty value out, so nothing is set aside: a series of none has no actual yet.
        return load_series(path, time_col, target_col, id_col, freq, fill=fill, split_future=fill != KEEP,
                           wide=wide, written=written, expected_times=expected, aggregate=aggregate)

    # The actuals as they are: a missing value or row is a forecast with no actual yet, not one
    # to score against a value filled in. (A `--history` is read as `train` read it: gaps filled,
    # the empty rows after each series' last value set aside; the actuals' own history is filled
    # so from these rows, `_history_before`.)
    try:
        actuals = read(actuals_path, KEEP)
    except UsageError as error:
        if not (inferred and str(error).startswith(f"--id-col {id_col!r}: ") and "has no column" in str(error)):
            raise
        id_col = None  # actuals without those columns (their ids joined already): read as before
        actuals = read(actuals_path, KEEP)
    if actuals.time_kind == "datetime":
        if forecast_times is None:
            raise DataError(f"{forecasts_path}: column 'ds' is not all dates, but {actuals_path} has dates.")
        zoned = actuals.frame[TIME].dt.tz is not None
        fc[TIME] = forecast_times if zoned else forecast_times.dt.tz_localize(None)
    else:
        fc[TIME] = pd.to_numeric(fc[TIME], errors="coerce")
        if fc[TIME].isna().any():
            raise DataError(f"{forecasts_path}: column 'ds' is not all integer steps, as in {actuals_path}.")
        fc[TIME] = fc[TIME].astype("int64")
    repeat = repeated_row(fc, np.arange(len(fc)) + 2)  # lines as a CSV counts them (the header is line 1)
    if repeat is not None:  # two nights' forecasts joined in one file: each row would be scored twice
        uid, when, lines = repeat
        raise DataError(
            f"{forecasts_path}: series {uid!r} has a forecast for {time_text(when)} more than once "
            f"(lines {', '.join(map(str, lines[:5]))}); a forecast file holds one row per series and time, as "
            "`forecast predict` writes it. Keep one of them (the latest run's), or score each run's file alone."
        )
    merged = fc.merge(actuals.frame, on=[ID, TIME], how="outer", indicator=True)
    only_fc = merged[merged["_merge"] == "left_only"]
    only_actual = merged[merged["_merge"] == "right_only"]
    matched = merged[merged["_merge"] == "both"].drop(columns="_merge").reset_index(drop=True)
    if matched.empty:
        why = _why_unmatched(fc, actuals.frame.dropna(subset=[TARGET]), actuals.columns.id_names)
        raise DataError(f"no forecast in {forecasts_path} has an actual value in {actuals_path} (matched on "
                        f"unique_id and ds): {why}")
    examples = [f"{r[ID]} {time_text(r[TIME])}" for _, r in only_fc.head(3).iterrows()]
    span = fc.groupby(ID)[TIME].agg(["min", "max"])
    forecast_series = only_actual[ID].isin(span.index)
    # Each actual row's series' forecast span, of the times' own type even with no rows (mapping no
    # ids gave an empty column of text, which integer steps could not be compared with).
    bounds = only_actual[[ID]].join(span, on=ID)
    outside = forecast_series & ~only_actual[TIME].between(bounds["min"], bounds["max"])
    without = sorted(only_actual.loc[~forecast_series, ID].astype(str).unique())
    scale_from = None
    if history_path is not None:
        history = read(history_path)
        season, series = history.season, series_arrays(history.frame)
        scale_from = HISTORY
    else:  # an actuals file of the whole data holds each series' history before its forecasts
        season, series = _history_before(actuals, span["min"]) or (1, {})
    scales = {uid: metrics.mase_scale(v, season) for uid, v in series.items()}
    matched["scale"] = matched[ID].map(scales).astype("float64")
    if scale_from is None and series and matched["scale"].notna().all():
        scale_from = ACTUALS
    elif scale_from is None:
        matched["scale"] = np.nan
    with_mase = scale_from is not None
    overall = _score_matched(matched, with_mase)
    by_series = _scores_by_series(matched, with_mase)
    by_series = with_keys(by_series, actuals.keys)  # a model's several id columns, to join the scores by
    return EvaluationResult(matched=matched, unmatched_forecasts=len(only_fc), unmatched_actuals=len(only_actual),
                            actuals_outside_forecasts=int(outside.sum()),
                            actuals_within_forecasts=int((forecast_series & ~outside).sum()), series_without_forecast=without,
                            examples=examples, overall=overall, by_series=by_series, scale_from=scale_from)


def _why_unmatched(fc: pd.DataFrame, actual: pd.DataFrame, names: tuple[str, ...] = ()) -> str:
    """Why no forecast row met an actual value, and the fix: the two files name other series
    (or the same ids written another way: `1.0` for `1`), or the actuals of the forecast series
    end before the forecasts begin (a nightly job that scores before the night's values arrived).
    `names`: the actuals' id columns, one of which the message names where the ids differ in it.

    Example:
        >>> fc = pd.DataFrame({ID: ["1/A"], TIME: [5]})
        >>> _why_unmatched(fc, pd.DataFrame({ID: ["1.0/A"], TIME: [5], TARGET: [1.0]}))
        "... ('1.0/A' in the actuals, '1/A' in the forecasts): an id column stored as decimal numbers? ..."
        >>> _why_unmatched(fc, pd.DataFrame({ID: ["1/A"], TIME: [4], TARGET: [1.0]}))
        'the actual values of the forecast series end at 4, before the first forecast (5): ...'
    """
    forecast_ids = fc[ID].astype(str).unique()
    ids = actual[ID].astype(str)
    actual_ids, shared = ids.unique(), ids.isin(forecast_ids)
    if not shared.any():
        alike = written_otherwise(actual_ids, forecast_ids)
        if alike:
            here, before = alike[0]
            return (f"its series are the forecasts' ids written another way ({here!r} in the actuals, {before!r} in "
                    f"the forecasts): {written_why(here, before, names)} Write the ids as the forecasts do.")
        if not len(actual_ids):
            return "the actuals hold no value. Give the file of the values that arrived after the forecasts were made."
        return (f"none of the {len(forecast_ids)} forecast series is in the actuals (forecasts: "
                f"{forecast_ids[0]!r}, ...; actuals: {actual_ids[0]!r}, ...). Give the actuals of the series forecast, "
                "read with the id column the model was trained with (--id-col).")
    last, first = actual.loc[shared, TIME].max(), fc[TIME].min()
    if last < first:
        return (f"the actual values of the forecast series end at {time_text(last)}, before the first forecast "
                f"({time_text(first)}): they have not arrived yet? Score the forecasts once they have.")
    return (f"the actual values of the forecast series run from {time_text(actual.loc[shared, TIME].min())} to "
            f"{time_text(last)} and the forecasts from {time_text(first)} to {time_text(fc[TIME].max())}, but no "
            "series has an actual value at a time it was forecast for. Check that the actuals are the values "
            "of the forecast times.")


def _reads_as_forecasts(path: str | Path) -> bool:
    try:
        read_forecasts(path)
    except DataError:
        return False
    return True


HISTORY, ACTUALS = "history", "actuals"  # where MASE's scale came from (`EvaluationResult.scale_from`)


def _history_before(actuals: Dataset, first: pd.Series) -> tuple[int, dict[str, np.ndarray]] | None:
    """Each forecast series' values before its first forecast in the actuals, filled as `train`
    fills data (the gaps of the file as read, interpolated), with the data's season: the history
    MASE is scaled by when no `--history` is given; None when the actuals hold no such values or
    their times make no grid (the night's values alone, too few to find a frequency in)."""
    def before(frame: pd.DataFrame) -> np.ndarray:
        return (frame[TIME] < frame[ID].map(first)).to_numpy()

    if not before(actuals.frame).any():
        return None
    try:
        whole = on_grid(actuals)
    except DataError:
        return None
    return actuals.season, series_arrays(whole[before(whole)])


EVALUATE_SHOWN = 20  # series rows in evaluate's table; the JSON holds every series


def worst_series(by_series: pd.DataFrame, most: int) -> tuple[pd.DataFrame, str | None]:
    """The series rows `evaluate` shows: all of them in id order when they are few, else the
    `most` worst (by MASE when the history gave it, else sMAPE), so that a file of thousands of
    series shows where its forecast failed rather than the first ids; and a caption saying so.

    Example:
        >>> rows = pd.DataFrame({"unique_id": ["a", "b", "c"], "smape": [5.0, 20.0, 1.0], "mase": [None] * 3})
        >>> shown, caption = worst_series(rows, 2)
        >>> list(shown["unique_id"]), caption
        (['b', 'a'], 'the 2 series of 3 with the highest sMAPE (every series in --json)')
    """
    if len(by_series) <= most:
        return by_series, None
    key, label = ("mase", "MASE") if "mase" in by_series and by_series["mase"].notna().any() else ("smape", "sMAPE")
    worst = by_series.sort_values(key, ascending=False, kind="stable", na_position="last").head(most)
    return worst, f"the {most} series of {len(by_series)} with the highest {label} (every series in --json)"


def _score_matched(rows: pd.DataFrame, with_mase: bool) -> dict[str, float | None]:
    return _scores(*_score_arrays(rows), with_mase)


def _scores_by_series(matched: pd.DataFrame, with_mase: bool) -> pd.DataFrame:
    """`_score_matched` of each series (by id), with its count of rows: the same arithmetic on
    slices of the columns taken once, where a group of rows a series cost 0.3 ms in pandas (6 s
    for 20,000 series)."""
    codes, ids = pd.factorize(matched[ID], sort=True)  # the order `groupby(ID, sort=True)` gives
    order = np.argsort(codes, kind="stable")  # each series' rows in their order in the file
    actual, forecast, scale, quantiles, levels = _score_arrays(matched.iloc[order])
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(ids)))])
    return pd.DataFrame([
        {ID: uid, "rows": int(end - start),
         **_scores(actual[start:end], forecast[start:end], scale[start:end],
                   None if quantiles is None else quantiles[start:end], levels, with_mase)}
        for uid, start, end in zip(ids, bounds[:-1], bounds[1:])
    ])


def _score_arrays(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None,
                                                tuple[float, ...]]:
    """The matched rows' actuals and forecasts as (rows, 1), their MASE scales, and any quantile
    forecasts as (rows, 1, levels) with their levels."""
    quantiles, levels = _quantile_arrays(rows)
    return (rows[TARGET].to_numpy()[:, None], rows["yhat"].to_numpy()[:, None], rows["scale"].to_numpy(), quantiles,
            levels)


def _scores(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray, quantiles: np.ndarray | None,
            levels: tuple[float, ...], with_mase: bool) -> dict[str, float | None]:
    scores = metrics.score(actual, forecast, scale)
    if not with_mase:
        scores.pop("mase")
    if quantiles is not None:
        scores.update(metrics.quantile_scores(actual, quantiles, levels, scale if with_mase else None))
    return scores
