"""Rolling-origin backtests: train before each cut-off, forecast, and score against the actuals and the baselines."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli import baselines, metrics
from forecast_cli.atomic import atomic_open
from forecast_cli.blend import point_forecast
from forecast_cli.config import TrainConfig
from forecast_cli.covariates import covariate_values
from forecast_cli.data import ID, TARGET, TIME, Dataset, series_arrays, with_keys
from forecast_cli.errors import DataError, OutputError, UsageError
from forecast_cli.forecast_file import quantile_column
from forecast_cli.output import Reporter, SilentReporter, counted
from forecast_cli.pipeline import ColumnOptions, fit, forecast_series, load_training
from forecast_cli.scoring import quantile_row_scores, worst_series

MODELS = ("lstm", "naive", "seasonal_naive")


@dataclasses.dataclass
class BacktestResult:
    """A backtest's forecasts row by row, its scores, and the history they were cut from."""

    rows: pd.DataFrame  # fold, unique_id, ds, step, y, lstm, naive, seasonal_naive, scale
    by_fold: pd.DataFrame  # fold, model, mae, rmse, smape, mase
    by_step: pd.DataFrame  # step, model, mae, rmse, smape, mase
    overall: dict[str, dict[str, float | None]]
    config: TrainConfig
    history: dict[str, np.ndarray]
    times: dict[str, np.ndarray]
    blend_weights: list[float] = dataclasses.field(default_factory=list)  # the LSTM's, fold by fold


def plotted_series(rows: pd.DataFrame, n: int) -> list[str]:
    """The series `backtest --plot` draws: every series (in id order) when there are `n` or fewer,
    else the `n` whose forecast scored worst over the folds, as `evaluate` picks them
    (`scoring.worst_series`: MASE, else sMAPE).

    Example:
        >>> rows = pd.DataFrame({"unique_id": ["a", "a", "b", "c"], "y": [10.0, 12.0, 5.0, 8.0],
        ...                      "lstm": [11.0, 12.0, 9.0, 9.0], "scale": [1.0, 1.0, 2.0, 1.0]})
        >>> plotted_series(rows, 3), plotted_series(rows, 2)
        (['a', 'b', 'c'], ['b', 'c'])
    """
    by_series = pd.DataFrame([{ID: uid, **_score_rows(group, "lstm")}
                              for uid, group in rows.groupby(ID, sort=False)])
    return list(worst_series(by_series, n)[0][ID])


def _score_rows(rows: pd.DataFrame, model: str) -> dict[str, float | None]:
    rows = rows[rows["y"].notna()]  # a value the data did not have (filled in for training) is not scored
    if rows.empty:
        return dict.fromkeys(metrics.METRICS)
    actual = rows["y"].to_numpy()[:, None]
    forecast = rows[model].to_numpy()[:, None]
    scores = metrics.score(actual, forecast, rows["scale"].to_numpy())
    return {**scores, **quantile_row_scores(rows, "y", True)} if model == "lstm" else scores


def _table(rows: pd.DataFrame, key: str) -> pd.DataFrame:
    out = []
    for value, group in rows.groupby(key, sort=True):
        for model in MODELS:
            out.append({key: value, "model": model, **_score_rows(group, model)})
    return pd.DataFrame(out)


def backtest(
    dataset: Dataset, config: TrainConfig, folds: int, step: int | None = None, reporter: Reporter | None = None,
    mapper: baselines.Mapper | None = None,
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
        mapper: spreads each fold's per-series statistical fits, as for `train` (`pool.local_mapper`
            over this machine's cores, `cluster.spread` over Dask workers); None: one after another here.

    Returns:
        Per-row forecasts and the scores per fold, per horizon step and overall.

    Example:
        >>> from forecast_cli.data import load_series
        >>> result = backtest(load_series("sample_data/airpassengers.csv"), TrainConfig(horizon=12, epochs=1), folds=2)
        >>> sorted(result.overall)
        ['lstm', 'naive', 'seasonal_naive']
    """
    reporter = reporter or SilentReporter()
    if folds < 1:
        raise UsageError(f"--folds must be at least 1. Received: folds={folds}.")
    if step is None:
        step = config.horizon
    if step < 1:
        raise UsageError(f"--step must be at least 1. Received: step={step}.")
    horizon = config.horizon
    frame = dataset.frame
    position = frame.groupby(ID, sort=False).cumcount()
    length = frame.groupby(ID, sort=False)[TARGET].transform("size")
    # A value filled in is trained on, as `train` does, but not scored: NaN here.
    all_series = series_arrays(dataset.as_read())
    all_times = {str(uid): g[TIME].to_numpy() for uid, g in frame.groupby(ID, sort=True)}
    rows = []
    resolved = config
    weights = []
    for fold in range(1, folds + 1):
        back = horizon + (folds - fold) * step  # steps held out after this fold's cut-off
        train_frame = frame[position < length - back].reset_index(drop=True)
        if train_frame.empty:
            longest = int(length.max())
            most = max(0, (longest - horizon - 1) // step + 1)  # the folds whose first cut-off leaves a row
            raise DataError(
                f"{dataset.source}: fold {fold} of {folds} would leave no training data (the longest "
                f"series has {longest} rows, and the fold holds out its last {back}). Use "
                + (f"at most {most} --folds here (training needs far more than a row: fewer leave it more), "
                   "a smaller --step or --horizon." if most else "a smaller --horizon.")
            )
        reporter.info(f"Fold {fold}/{folds}: training on data up to {back} steps before each series' end")
        try:
            fitted = fit(dataclasses.replace(dataset, frame=train_frame), config, reporter, mapper)
        except DataError as error:  # say which fold, and that its cut-off is what made the data short
            raise DataError(f"{error} (In fold {fold} of {folds}, which trains on each series without its last "
                            f"{back} values: fewer --folds or a smaller --step leave it more.)") from None
        resolved = fitted.config
        weights.append(resolved.blend)
        history = series_arrays(train_frame)
        usable = {u: v for u, v in history.items() if len(v) >= resolved.least_history and u in fitted.scalings}
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
            snaive = baselines.seasonal_naive(hist, horizon, resolved.baseline_season)
            naive = baselines.naive(hist, horizon)
            scale = metrics.mase_scale(hist, resolved.season)
            n = len(actual)  # the steps held out that the data has (the last fold's may be fewer)
            columns = {"fold": np.full(n, fold), ID: np.full(n, uid, dtype=object), TIME: times,
                       "step": np.arange(1, n + 1), "y": actual, "lstm": fc[:n], "naive": naive[:n],
                       "seasonal_naive": snaive[:n], "scale": np.full(n, scale)}
            for k, level in enumerate(resolved.quantiles):
                columns[quantile_column(level)] = fq[:n, k]
            rows.append(columns)
    # Columns of arrays a series, joined once: a dict a row took gigabytes on a million series.
    table = pd.DataFrame({name: np.concatenate([r[name] for r in rows]) for name in rows[0]} if rows else {})
    if table.empty:
        raise DataError(f"{dataset.source}: no series is long enough for a backtest fold. Use fewer --folds.")
    missing = int(table["y"].isna().sum())
    if missing:
        reporter.info(f"{counted(missing, 'value')} of the folds {'was' if missing == 1 else 'were'} missing in "
                      f"{dataset.source} (filled in for training, left empty in forecasts.csv): not scored.")
    overall = {model: _score_rows(table, model) for model in MODELS}
    return BacktestResult(rows=with_keys(table, dataset.keys), by_fold=_table(table, "fold"),
                          by_step=_table(table, "step"), overall=overall, config=resolved, history=all_series, times=all_times,
                          blend_weights=weights)


def run(data_path: str | Path, config: TrainConfig, columns: ColumnOptions = ColumnOptions(), folds: int = 3,
        step: int | None = None, reporter: Reporter | None = None,
        mapper: baselines.Mapper | None = None) -> BacktestResult:
    """Read a CSV as `train` does and backtest it (see `backtest`).

    Example:
        >>> run("sample_data/airpassengers.csv", TrainConfig(horizon=12, epochs=1), folds=2).overall["lstm"]["mase"] > 0
        True
    """
    dataset, config = load_training(data_path, config, columns, reporter)
    return backtest(dataset, config, folds, step, reporter, mapper)


def _keras_predict(network: Any):
    from forecast_cli import model as lstm

    return lambda inputs: lstm.predict(network, inputs)


def summary(result: BacktestResult) -> dict[str, Any]:
    """backtest.json: the settings, the scores over all folds, by fold and by horizon step."""
    return {
        "config": result.config.to_dict(),
        "overall": result.overall,
        "blend_weights": result.blend_weights,
        "folds": _records(result.by_fold),
        "steps": _records(result.by_step),
    }


def write_backtest(result: BacktestResult, folder: Path) -> list[Path]:
    """Write forecasts.csv, folds.csv, steps.csv and backtest.json into `folder` (each whole)."""
    if not folder.parent.is_dir():
        raise OutputError(f"cannot write {folder}: the folder {folder.parent} does not exist. Create it first.")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write {folder}: it is a file. Choose another --output-dir.")
    # Every file's text first, then every file written to its temporary file, and only then the
    # four renames, one after another: a run stopped while encoding (the forecasts of many series
    # take seconds) or a write that fails (a full disk) leaves the previous four as they were,
    # not two new files beside two old ones.
    texts = {name: table.to_csv(index=False, float_format="%.8g", lineterminator="\n")
             for name, table in (("forecasts.csv", result.rows), ("folds.csv", result.by_fold),
                                 ("steps.csv", result.by_step))}
    texts["backtest.json"] = json.dumps(summary(result), indent=2) + "\n"
    folder.mkdir(exist_ok=True)
    with contextlib.ExitStack() as renames:  # each file is renamed into place as its context closes
        for name, text in texts.items():
            renames.enter_context(atomic_open(folder / name)).write(text.encode("utf-8"))
    return [folder / name for name in texts]


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(table.to_json(orient="records"))
