"""Rolling-origin backtests and scoring of forecast files against actuals that arrived later."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli import metrics
from forecast_cli.artifacts import atomic_write_text
from forecast_cli.config import TrainConfig, quantile_column
from forecast_cli.data import ID, TARGET, TIME, Dataset, load_series, series_arrays
from forecast_cli.errors import DataError, OutputError, UsageError
from forecast_cli.pipeline import Reporter, SilentReporter, covariate_values, fit, forecast_series
from forecast_cli.windows import point_forecast

MODELS = ("lstm", "naive", "seasonal_naive")


@dataclasses.dataclass
class BacktestResult:
    rows: pd.DataFrame  # fold, unique_id, ds, step, y, lstm, naive, seasonal_naive, scale
    by_fold: pd.DataFrame  # fold, model, mae, rmse, smape, mase
    by_step: pd.DataFrame  # step, model, mae, rmse, smape, mase
    overall: dict[str, dict[str, float | None]]
    config: TrainConfig
    history: dict[str, np.ndarray]
    times: dict[str, np.ndarray]
    blend_weights: list[float] = dataclasses.field(default_factory=list)  # the LSTM's, fold by fold


QUANTILE_COLUMN = re.compile(r"^q(0?\.\d+)$")


def quantile_levels(frame: pd.DataFrame) -> dict[str, float]:
    """The quantile columns of a forecast frame (q0.1, q0.5, ...) and their levels, increasing."""
    found = {c: float(m.group(1)) for c in frame.columns if (m := QUANTILE_COLUMN.match(str(c)))}
    return dict(sorted(found.items(), key=lambda item: item[1]))


def _quantile_scores(rows: pd.DataFrame, actual_col: str, with_scale: bool) -> dict[str, float | None]:
    levels = quantile_levels(rows)
    if not levels:
        return {}
    forecast = rows[list(levels)].to_numpy(dtype="float64")[:, None, :]
    scale = rows["scale"].to_numpy() if with_scale else None
    return metrics.quantile_scores(rows[actual_col].to_numpy()[:, None], forecast, tuple(levels.values()), scale)


def _score_rows(rows: pd.DataFrame, model: str) -> dict[str, float | None]:
    actual = rows["y"].to_numpy()[:, None]
    forecast = rows[model].to_numpy()[:, None]
    scores = metrics.score(actual, forecast, rows["scale"].to_numpy())
    return {**scores, **_quantile_scores(rows, "y", True)} if model == "lstm" else scores


def _table(rows: pd.DataFrame, key: str) -> pd.DataFrame:
    out = []
    for value, group in rows.groupby(key, sort=True):
        for model in MODELS:
            out.append({key: value, "model": model, **_score_rows(group, model)})
    return pd.DataFrame(out)


def backtest(
    dataset: Dataset, config: TrainConfig, folds: int, step: int | None = None, reporter: Reporter | None = None
) -> BacktestResult:
    """Rolling-origin evaluation: for each fold, train only on data before its cut-off (scaling
    fitted again), forecast `horizon` steps, and score the LSTM, naive and seasonal naive.

    The last fold's cut-off is `horizon` steps before each series' end; each earlier fold is
    `step` (default: horizon) steps before the next.

    Args:
        dataset: from `load_series`.
        config: training settings, as for `train`.
        folds: number of cut-offs.
        step: steps between cut-offs.
        reporter: receives progress.

    Returns:
        Per-row forecasts and the scores per fold, per horizon step and overall.

    Example:
        >>> backtest(load_series("sample_data/airpassengers.csv"), TrainConfig(horizon=12), folds=3)
    """
    reporter = reporter or SilentReporter()
    if folds < 1:
        raise UsageError(f"--folds must be at least 1. Received: folds={folds}.")
    step = step or config.horizon
    if step < 1:
        raise UsageError(f"--step must be at least 1. Received: step={step}.")
    horizon = config.horizon
    frame = dataset.frame
    position = frame.groupby(ID, sort=False).cumcount()
    length = frame.groupby(ID, sort=False)[TARGET].transform("size")
    all_series = series_arrays(frame)
    all_times = {str(uid): g[TIME].to_numpy() for uid, g in frame.groupby(ID, sort=True)}
    rows = []
    resolved = config
    weights = []
    for fold in range(1, folds + 1):
        back = horizon + (folds - fold) * step  # steps held out after this fold's cut-off
        train_frame = frame[position < length - back].reset_index(drop=True)
        if train_frame.empty:
            raise DataError(
                f"{dataset.source}: fold {fold} of {folds} would leave no training data (the longest "
                f"series has {int(length.max())} rows). Use fewer --folds, a smaller --step or --horizon."
            )
        reporter.info(f"Fold {fold}/{folds}: training on data up to {back} steps before each series' end")
        fitted = fit(dataclasses.replace(dataset, frame=train_frame), config, reporter)
        resolved = fitted.config
        weights.append(resolved.blend)
        history = series_arrays(train_frame)
        usable = {u: v for u, v in history.items() if len(v) >= resolved.lookback and u in fitted.scalings}
        covariates = None
        if resolved.covariates:  # the held-out steps' future covariates are known by definition
            ahead = frame[(position >= length - back) & (position < length - back + horizon)]
            covariates = covariate_values(train_frame, resolved, ahead, fitted.covariate_scalings)
        forecasts = forecast_series(_keras_predict(fitted.network), resolved, usable, fitted.scalings, covariates,
                                    fitted.ets_params)
        for (uid, hist), fc, fq in zip(usable.items(), point_forecast(forecasts, resolved.quantiles), forecasts):
            start = len(hist)
            actual = all_series[uid][start : start + horizon]
            times = all_times[uid][start : start + horizon]
            snaive = metrics.seasonal_naive(hist, horizon, resolved.season)
            naive = metrics.naive(hist, horizon)
            scale = metrics.mase_scale(hist, resolved.season)
            for h in range(len(actual)):
                row = {"fold": fold, ID: uid, TIME: times[h], "step": h + 1, "y": actual[h],
                       "lstm": fc[h], "naive": naive[h], "seasonal_naive": snaive[h], "scale": scale}
                for k, level in enumerate(resolved.quantiles):
                    row[quantile_column(level)] = fq[h, k]
                rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        raise DataError(f"{dataset.source}: no series is long enough for a backtest fold. Use fewer --folds.")
    overall = {model: _score_rows(table, model) for model in MODELS}
    return BacktestResult(rows=table, by_fold=_table(table, "fold"), by_step=_table(table, "step"),
                          overall=overall, config=resolved, history=all_series, times=all_times,
                          blend_weights=weights)


def _keras_predict(network: Any):
    from forecast_cli import model as lstm

    return lambda inputs: lstm.predict(network, inputs)


def write_backtest(result: BacktestResult, folder: Path) -> list[Path]:
    """Write forecasts.csv, folds.csv, steps.csv and backtest.json into `folder` (each whole)."""
    if not folder.parent.is_dir():
        raise OutputError(f"cannot write {folder}: the folder {folder.parent} does not exist. Create it first.")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write {folder}: it is a file. Choose another --output-dir.")
    folder.mkdir(exist_ok=True)
    written = []
    for name, table in (("forecasts.csv", result.rows), ("folds.csv", result.by_fold), ("steps.csv", result.by_step)):
        atomic_write_text(folder / name, table.to_csv(index=False, float_format="%.8g", lineterminator="\n"))
        written.append(folder / name)
    summary = {
        "config": result.config.to_dict(),
        "overall": result.overall,
        "blend_weights": result.blend_weights,
        "folds": _records(result.by_fold),
        "steps": _records(result.by_step),
    }
    atomic_write_text(folder / "backtest.json", json.dumps(summary, indent=2) + "\n")
    return [*written, folder / "backtest.json"]


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(table.to_json(orient="records"))


@dataclasses.dataclass
class EvaluationResult:
    matched: pd.DataFrame  # unique_id, ds, y, yhat (and scale with a history)
    unmatched_forecasts: int
    unmatched_actuals: int
    examples: list[str]
    overall: dict[str, float | None]
    by_series: pd.DataFrame


def evaluate(
    forecasts_path: str | Path, actuals_path: str | Path, history_path: str | Path | None = None
) -> EvaluationResult:
    """Score a forecast file written by `predict` against actual values that arrived later.

    Rows are matched on series and timestamp; rows of either file without a partner are counted
    and reported. With the training history, MASE is computed too (in-sample seasonal naive MAE of
    each series' history as the scale).

    Example:
        >>> evaluate("forecast.csv", "actuals.csv").overall["mae"]
    """
    fc = _read_forecasts(forecasts_path)
    actuals = load_series(actuals_path)
    if actuals.time_kind == "datetime":
        try:
            fc[TIME] = pd.to_datetime(fc[TIME], format="ISO8601")
        except (ValueError, TypeError):
            raise DataError(f"{forecasts_path}: column 'ds' is not all dates, but {actuals_path} has dates.") from None
        if fc[TIME].dt.tz is not None and actuals.frame[TIME].dt.tz is None:
            fc[TIME] = fc[TIME].dt.tz_localize(None)
    else:
        fc[TIME] = pd.to_numeric(fc[TIME], errors="coerce")
        if fc[TIME].isna().any():
            raise DataError(f"{forecasts_path}: column 'ds' is not all integer steps, as in {actuals_path}.")
        fc[TIME] = fc[TIME].astype("int64")
    merged = fc.merge(actuals.frame, on=[ID, TIME], how="outer", indicator=True)
    only_fc = merged[merged["_merge"] == "left_only"]
    only_actual = merged[merged["_merge"] == "right_only"]
    matched = merged[merged["_merge"] == "both"].drop(columns="_merge").reset_index(drop=True)
    if matched.empty:
        raise DataError(
            f"no forecast in {forecasts_path} has an actual value in {actuals_path} (matched on "
            "unique_id and ds). Check that the actuals cover the forecast dates and use the same ids."
        )
    examples = [f"{r[ID]} {r[TIME]}" for _, r in only_fc.head(3).iterrows()]
    if history_path is not None:
        history = load_series(history_path)
        scales = {uid: metrics.mase_scale(v, history.season) for uid, v in series_arrays(history.frame).items()}
        matched["scale"] = matched[ID].map(scales).astype("float64")
    else:
        matched["scale"] = np.nan
    overall = _score_matched(matched, history_path is not None)
    by_series = pd.DataFrame(
        [{ID: uid, "rows": len(g), **_score_matched(g, history_path is not None)} for uid, g in matched.groupby(ID, sort=True)]
    )
    return EvaluationResult(matched=matched, unmatched_forecasts=len(only_fc), unmatched_actuals=len(only_actual),
                            examples=examples, overall=overall, by_series=by_series)


def _score_matched(rows: pd.DataFrame, with_mase: bool) -> dict[str, float | None]:
    scores = metrics.score(rows[TARGET].to_numpy()[:, None], rows["yhat"].to_numpy()[:, None],
                           rows["scale"].to_numpy())
    if not with_mase:
        scores.pop("mase")
    return {**scores, **_quantile_scores(rows, TARGET, with_mase)}


def _read_forecasts(path: str | Path) -> pd.DataFrame:
    from forecast_cli.data import read_csv

    raw, _ = read_csv(path)
    missing = sorted({ID, TIME, "yhat"} - set(raw.columns))
    if missing:
        raise DataError(
            f"{path} is not a forecast file: missing column(s) {', '.join(missing)}. Expected the "
            "unique_id, ds, yhat written by `forecast predict`."
        )
    numbers = ["yhat", *quantile_levels(raw)]
    frame = raw[[ID, TIME, *numbers]].copy()
    for column in numbers:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
        if frame[column].isna().any():
            line = int(np.flatnonzero(frame[column].isna().to_numpy())[0]) + 2
            raise DataError(
                f"{path}, line {line}: {column} is not a number. Expected the file as `forecast predict` wrote it."
            )
    frame[ID] = frame[ID].astype(str)
    return frame
