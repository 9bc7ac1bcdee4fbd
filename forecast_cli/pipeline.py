"""train() and predict(): the orchestration of data, windows, model and artifacts (no printing)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from forecast_cli import __version__, artifacts, baselines, metrics
from forecast_cli.config import (BLEND_GRID, BLEND_MARGIN, TrainConfig, quantile_column, default_batch_size, default_lookback, default_max_windows,
                                 default_val_windows)
from forecast_cli.data import (CALENDAR_PREFIX, ID, TIME, Dataset, calendar_columns, calendar_features, future_grid,
                               load_series, series_arrays)
from forecast_cli.errors import DataError, OutputError, UsageError
from forecast_cli.windows import (Covariates, Scaling, blend, fit_scaling, invert_outputs, make_windows, point_forecast,
                                  prediction_inputs)


class Reporter(Protocol):
    """Where the pipeline sends what a person may want to see (the CLI prints it on stderr)."""

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def epoch(self, epoch: int, epochs: int, row: dict[str, float], seconds: float) -> None: ...


class SilentReporter:
    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def epoch(self, epoch: int, epochs: int, row: dict[str, float], seconds: float) -> None:
        pass


@dataclasses.dataclass(frozen=True)
class ColumnOptions:
    """Column roles and time handling as given on the command line (None: detect)."""

    time_col: str | None = None
    target_col: str | None = None
    id_col: str | None = None
    freq: str | None = None


@dataclasses.dataclass(frozen=True)
class TrainResult:
    out: Path
    config: TrainConfig
    dataset: Dataset
    n_series: int
    train_windows: int
    val_windows: int
    epochs_run: int
    best_epoch: int
    seconds: float
    metrics: dict[str, Any]


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "forecast": __version__}
    for name in ("tensorflow", "keras", "numpy", "pandas"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def load_training(data_path: str | Path, config: TrainConfig, columns: ColumnOptions = ColumnOptions()
                  ) -> tuple[Dataset, TrainConfig]:
    """Read the training CSV with its covariate columns; the config's past covariates resolved
    (every other numeric column unless named)."""
    future = config.future_covariates
    wanted = "auto" if config.past_covariates is None else (*config.past_covariates, *future)
    dataset = load_series(data_path, columns.time_col, columns.target_col, columns.id_col, columns.freq, config.fill,
                          covariates=wanted, split_future=True)
    absent = [c for c in future if c not in dataset.covariates]
    if absent:
        raise DataError(
            f"{dataset.source}: --future-covariates names {', '.join(map(repr, absent))}, which is not a column of "
            f"numbers there (columns: {', '.join(dataset.columns.all_columns)}). Name numeric columns of the file."
        )
    past = tuple(c for c in dataset.covariates if c not in future)
    if config.calendar:
        names = calendar_columns(dataset.freq) if dataset.time_kind == "datetime" else ()
        if not names:
            what = f"frequency {dataset.freq}" if dataset.freq else "integer steps"
            raise UsageError(
                f"--calendar adds the position in the day, week or year, but {dataset.source} has {what}, "
                "which has no such cycle. Drop --calendar (or give the time column dates)."
            )
        future = (*future, *names)
        dataset = dataclasses.replace(dataset, frame=with_calendar(dataset.frame, names))
    return dataset, dataclasses.replace(config, past_covariates=past, future_covariates=future)


def with_calendar(frame: pd.DataFrame, names: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """`frame` with the calendar columns among `names` computed from its timestamps."""
    names = [c for c in names if c.startswith(CALENDAR_PREFIX)]
    return pd.concat([frame, calendar_features(frame[TIME], tuple(names))], axis=1) if names else frame


def warn_ignored_rows(dataset: Dataset, config: TrainConfig, reporter: Reporter) -> None:
    """Say so when rows after a series' last value (empty target) are not read: without future
    covariates from the file they carry nothing, and filling them would invent values."""
    rows = dataset.future
    if rows is None or len(rows) == 0 or from_file(config.future_covariates):
        return
    first = rows.iloc[0]
    when = first[TIME] if dataset.time_kind == "integer" else pd.Timestamp(first[TIME]).isoformat()
    reporter.warn(
        f"{dataset.source}: {len(rows)} row(s) after the last value of their series have an empty "
        f"{dataset.columns.target_col!r} (e.g. series {first[ID]!r} at {when}); they were ignored, so each "
        "series ends at its last value. Remove those rows, or name their columns with --future-covariates "
        "if they hold values known ahead."
    )


def from_file(names: tuple[str, ...]) -> tuple[str, ...]:
    """The covariates among `names` that are read from the file (calendar ones are computed)."""
    return tuple(c for c in names if not c.startswith(CALENDAR_PREFIX))


def covariate_values(frame: pd.DataFrame, config: TrainConfig, future: pd.DataFrame | None = None,
                     scalings: list[Scaling] | None = None) -> Covariates | None:
    """Each series' covariate rows (past columns first), followed by the rows of `future`
    (the horizon's known values) when given; None for a model without covariates. Without
    `scalings`, `windows.make_windows` fits them."""
    names = list(config.covariates)
    if not names:
        return None
    values = {str(uid): g[names].to_numpy(dtype="float64") for uid, g in frame.groupby(ID, sort=True)}
    if future is not None:
        ahead = {str(uid): g[names].to_numpy(dtype="float64") for uid, g in future.groupby(ID, sort=True)}
        values = {uid: np.concatenate([v, np.nan_to_num(ahead[uid])]) for uid, v in values.items()}
    return Covariates(values, len(config.past_covariates or ()), len(config.future_covariates), scalings)


def future_rows(dataset: Dataset, config: TrainConfig, last: pd.Series, times: np.ndarray) -> pd.DataFrame:
    """The `horizon` rows after each series' last value (`last`, by id; `times`, the forecast's
    timestamps), with their future covariates, from the rows the file gives after its values; a
    missing row or value is an error that names them."""
    names = list(from_file(config.future_covariates))
    expected = pd.DataFrame({ID: np.repeat(last.index.to_numpy(), config.horizon), TIME: times})
    given = dataset.future if dataset.future is not None else pd.DataFrame(columns=[ID, TIME, *names])
    given = given.astype({TIME: dataset.frame[TIME].dtype})
    expected[TIME] = expected[TIME].astype(dataset.frame[TIME].dtype)
    past_cols = [c for c in config.covariates if c not in config.future_covariates]
    rows = expected.merge(given[[ID, TIME, *names]], on=[ID, TIME], how="left")
    gaps = rows[names].isna().any(axis=1).to_numpy()
    if gaps.any():
        first = rows[gaps].iloc[0]
        uid = first[ID]
        n_series = rows.loc[gaps, ID].nunique()
        raise DataError(
            f"{dataset.source}: series {uid!r} needs the future covariate(s) {', '.join(names)} for the "
            f"{config.horizon} steps after its last value ({last[uid]}), but {int(gaps[rows[ID] == uid].sum())} "
            f"of them are missing, the first at {first[TIME]} ({n_series} series lack some). Add a row for each "
            f"of those times with the covariate values and an empty {dataset.columns.target_col!r}."
        )
    for col in past_cols:
        rows[col] = 0.0  # not read by the network over the horizon
    return with_calendar(rows, config.future_covariates)


def resolve_config(config: TrainConfig, dataset: Dataset, series: dict[str, np.ndarray]) -> TrainConfig:
    """Fill in season and lookback from the data, and check that the data can support them."""
    season = config.season or dataset.season
    lengths = np.array([len(v) for v in series.values()])
    longest, shortest = int(lengths.max()), int(lengths.min())
    horizon = config.horizon
    if config.lookback is None:
        lookback = default_lookback(horizon, season)
        # Keep every series forecastable: never ask for more history than the shortest has.
        lookback = max(2, min(lookback, shortest))
    else:
        lookback = config.lookback
    val_windows = config.val_windows or default_val_windows(len(series), longest, lookback, horizon)
    # Windows each series offers to the refit (validation part included), the most of any stage.
    offered = [max(0, n - lookback - horizon + 1) for n in lengths.tolist()]
    max_windows = config.max_windows or default_max_windows(offered)
    need = lookback + horizon * (1 + val_windows)
    if longest < need:
        raise DataError(
            f"{dataset.source}: the longest series has {longest} rows, but --lookback {lookback} + "
            f"--horizon {horizon} for training and {val_windows} x {horizon} for validation "
            f"need at least {need}. Use a smaller --lookback or --horizon."
        )
    transform = config.transform
    nonnegative = all(bool((v >= 0).all()) for v in series.values())
    if transform == "auto":
        transform = "log" if nonnegative else "none"
    elif transform == "log" and not nonnegative:
        uid = next(u for u, v in series.items() if not (v >= 0).all())
        raise DataError(
            f"{dataset.source}: --transform log needs values of 0 or more, but series {uid!r} has "
            "negatives. Use --transform none (or auto)."
        )
    # On a log scale, taking off the mean leaves relative changes, alike across series; on the
    # raw scale the standard deviation is needed as well.
    scaling = config.scaling if config.scaling != "auto" else ("mean" if transform == "log" else "std")
    relative = transform == "log" and scaling == "mean"  # outputs are log ratios
    loss = config.loss if config.loss != "auto" else ("ape" if relative else "mae")
    if config.quantiles:
        if config.loss not in ("auto", "pinball"):
            raise UsageError(
                f"--quantiles trains with the pinball (quantile) loss, so --loss {config.loss} cannot be used "
                "with it. Drop --loss."
            )
        loss = "pinball"
    elif loss == "pinball":
        raise UsageError("--loss pinball needs the quantile levels: add --quantiles, e.g. 0.1,0.5,0.9.")
    if loss == "ape" and not relative:
        raise UsageError(
            "--loss ape measures relative errors on a log scale and needs --transform log with "
            f"--scaling mean; this run has transform {transform} and scaling {scaling}. Use --loss mae."
        )
    return dataclasses.replace(config, season=season, lookback=lookback, transform=transform, scaling=scaling,
                               loss=loss, val_windows=val_windows, max_windows=max_windows)


def baseline_forecasts(histories, config: TrainConfig, method: str | None = None, params=None) -> np.ndarray:
    """The forecast (n, horizon) of each history by `method` (default: the config's `baseline`),
    on the model's scale (log with `--transform log`); `params`: each history's saved ETS
    parameters (`artifacts.MISSING` for one fitted here), or None to fit them all here."""
    log = config.transform == "log"
    histories = list(histories)
    if params is not None:
        params = [baselines.fit_ets(h, config.season, log) if p == artifacts.MISSING else p
                  for h, p in zip(histories, params, strict=True)]
    return baselines.forecasts(histories, config.horizon, config.season, method or config.baseline, log, params)


def blend_scores(actual: np.ndarray, network: np.ndarray, baseline: np.ndarray, scales: np.ndarray) -> dict[float, float]:
    """The MASE (MAE where no window has a MASE scale) against `actual` of each `BLEND_GRID`
    weight's blend of the network's and the baseline's point forecasts."""
    def score(weight: float) -> float:
        forecast = blend(network, baseline, weight)
        value = metrics.mase(actual, forecast, scales)
        return metrics.mae(actual, forecast) if np.isnan(value) else value

    return {weight: score(weight) for weight in BLEND_GRID}


def choose_blend(scores: dict[float, float]) -> float:
    """The even blend (0.5) unless another weight scores more than `BLEND_MARGIN` lower; then the
    lowest-scoring weight, on a tie the larger one (more of the network).

    Example:
        >>> choose_blend({0.0: 2.0, 0.5: 1.0, 1.0: 0.999})  # 0.1% lower: not enough
        0.5
        >>> choose_blend({0.0: 2.0, 0.5: 1.0, 1.0: 0.9})
        1.0
    """
    best = min(scores.values())
    if not best < scores[0.5] * (1 - BLEND_MARGIN):
        return 0.5
    return max(weight for weight, value in scores.items() if value <= best * (1 + 1e-9))


def validation_metrics(ws, forecast: np.ndarray, config: TrainConfig) -> dict[str, Any]:
    """Scores of the forecast, of the network alone and of the naive and seasonal-naive
    baselines on validation windows (with quantiles, the median is scored as the point forecast,
    and interval coverage and pinball loss are added). `forecast` is the network's; it is blended
    with the `config.baseline` forecast by `config.blend`, or with `config.blend` None (auto) by
    `choose_blend` on these windows (`blend_weight`, each weight's score in `blend_scores`)."""
    season, horizon = config.season, config.horizon
    scales = np.array([metrics.mase_scale(h, season) for h in ws.val_history])
    naive = np.stack([metrics.naive(h, horizon) for h in ws.val_history])
    snaive = baseline_forecasts(ws.val_history, config, "snaive")
    base = snaive
    if config.baseline != "snaive" and config.blend != 1.0:
        base = baseline_forecasts(ws.val_history, config)
    weights = {}
    if config.blend is None:  # chosen here, on the validation windows only, before any refit
        weights = blend_scores(ws.val_actual, point_forecast(forecast, config.quantiles), base, scales)
        config = dataclasses.replace(config, blend=choose_blend(weights))
    blended = blend(forecast, base, config.blend, config.quantiles)
    result = {
        "windows": int(len(ws.val_actual)),
        "season": season,
        "blend_weight": config.blend,
        "baseline": config.baseline,
        "lstm": metrics.score(ws.val_actual, point_forecast(blended, config.quantiles), scales),
        "naive": metrics.score(ws.val_actual, naive, scales),
        "seasonal_naive": metrics.score(ws.val_actual, snaive, scales),
    }
    if base is not snaive:
        result[config.baseline] = metrics.score(ws.val_actual, base, scales)
    if config.blend < 1.0:
        result["lstm_alone"] = metrics.score(ws.val_actual, point_forecast(forecast, config.quantiles), scales)
    if config.quantiles:
        result["lstm"].update(metrics.quantile_scores(ws.val_actual, blended, config.quantiles, scales))
    lstm_mase, base_mase = result["lstm"]["mase"], result["seasonal_naive"]["mase"]
    if lstm_mase is not None and base_mase:
        result["skill_vs_seasonal_naive"] = 1.0 - lstm_mase / base_mase
    else:
        lstm_mae, base_mae = result["lstm"]["mae"], result["seasonal_naive"]["mae"]
        result["skill_vs_seasonal_naive"] = 1.0 - lstm_mae / base_mae if base_mae else None
    if weights:
        result["blend_scores"] = {f"{w:g}": value for w, value in weights.items()}
    return result


@dataclasses.dataclass
class Fitted:
    """A trained network with everything needed to forecast and to describe it."""

    network: Any
    config: TrainConfig
    scalings: dict[str, Scaling]
    history: list[dict[str, float]]
    best_epoch: int
    metrics: dict[str, Any]
    train_windows: int
    x_val: np.ndarray
    covariate_scalings: list[Scaling] | None = None  # one per covariate column, in config order
    ets_params: dict[str, dict[str, float] | None] | None = None  # per series, for --baseline ets


def fit(dataset: Dataset, config: TrainConfig, reporter: Reporter | None = None) -> Fitted:
    """Window, scale and train on an in-memory dataset; score on its validation windows.

    Args:
        dataset: from `load_series`.
        config: training settings (lookback, season and batch size may be None: resolved).
        reporter: receives progress and warnings.

    Returns:
        A `Fitted` network, its resolved config, the per-series scalings and the scores.
    """
    reporter = reporter or SilentReporter()
    series = series_arrays(dataset.frame)
    config = resolve_config(config, dataset, series)
    log = config.transform == "log"
    covariates = covariate_values(dataset.frame, config)
    ws = make_windows(series, config.lookback, config.horizon, config.val_windows, config.max_windows,
                      config.window_norm, config.season, log=log, scaling=config.scaling, covariates=covariates)
    if ws.short:
        shown = ", ".join(repr(s) for s in ws.short[:5]) + (", ..." if len(ws.short) > 5 else "")
        reporter.warn(
            f"{len(ws.short)} series shorter than lookback {config.lookback} + horizon {config.horizon} "
            f"were not used for training: {shown}. They can still be forecast if they have at least "
            f"{config.lookback} values."
        )
    if len(ws.x_train) == 0 or len(ws.x_val) == 0:
        need = config.lookback + config.horizon * (1 + config.val_windows)
        raise DataError(
            f"{dataset.source}: no series is long enough to give both training and validation windows "
            f"(lookback {config.lookback} + horizon {config.horizon} + validation "
            f"{config.val_windows} x {config.horizon} = {need} rows). Use a smaller --lookback or --horizon."
        )
    if config.batch_size is None:
        config = dataclasses.replace(config, batch_size=default_batch_size(len(ws.x_train)))
    reporter.info(
        f"Training on {len(ws.x_train)} windows from {ws.train_series} series "
        f"(lookback {config.lookback}, horizon {config.horizon}, season {config.season}); "
        f"validating on {len(ws.x_val)} windows"
    )
    from forecast_cli import model as lstm

    members, history, best_epochs = [], [], []
    for member in range(config.ensemble):
        member_config = dataclasses.replace(config, seed=config.seed + member)
        if config.ensemble > 1:
            reporter.info(f"Ensemble member {member + 1}/{config.ensemble} (seed {member_config.seed})")
        network, rows = lstm.fit(member_config, ws.x_train, ws.y_train, ws.x_val, ws.y_val, on_epoch=reporter.epoch)
        members.append(network)
        history += [{**row, "member": member + 1} for row in rows]
        best_epochs.append(int(np.nanargmin([h["val_loss"] for h in rows])) + 1)
    network = lstm.average(members)
    val_scaled = lstm.predict(network, ws.x_val)
    val_forecast = invert_outputs(val_scaled, ws.val_base, [ws.scalings[uid] for uid in ws.val_ids], config.quantiles)
    if config.blend is None and config.future_covariates:
        # The baseline cannot see what is known ahead; blending would dilute its effect.
        config = dataclasses.replace(config, blend=1.0)
    scores = validation_metrics(ws, val_forecast, config)  # chooses the blend weight if auto
    config = dataclasses.replace(config, blend=scores["blend_weight"])
    best_epoch = best_epochs[0]
    scalings, covariate_scalings = ws.scalings, ws.covariate_scalings
    if config.refit:
        # Model selection is done; train again on every window, validation part included, for
        # the epochs that were best. The metrics above describe the validated network.
        full = make_windows(series, config.lookback, config.horizon, 0, config.max_windows,
                            config.window_norm, config.season, log=log, scaling=config.scaling, covariates=covariates)
        members = []
        for member, epochs in enumerate(best_epochs):
            reporter.info(f"Refitting on all the data for {epochs} epochs")
            member_config = dataclasses.replace(config, seed=config.seed + member)
            network, rows = lstm.fit(member_config, full.x_train, full.y_train, None, None,
                                     on_epoch=reporter.epoch, epochs=epochs)
            members.append(network)
            history += [{**row, "member": member + 1, "refit": 1} for row in rows]
        network = lstm.average(members)
        scalings = full.scalings
        covariate_scalings = full.covariate_scalings
        scores["refit_epochs"] = best_epochs
    ets_params = None
    if config.baseline == "ets" and config.blend < 1.0:
        # Like the refit: the smoothing parameters that predict applies come from all the data.
        reporter.info(f"Fitting the ETS baseline to {len(series)} series")
        ets_params = {uid: baselines.fit_ets(values, config.season, log) for uid, values in series.items()}
    return Fitted(network=network, config=config, scalings=scalings, history=history, best_epoch=best_epoch,
                  metrics=scores, train_windows=len(ws.x_train), x_val=ws.x_val,
                  covariate_scalings=covariate_scalings, ets_params=ets_params)


def train(
    data_path: str | Path,
    config: TrainConfig,
    out: str | Path = "model",
    columns: ColumnOptions = ColumnOptions(),
    reporter: Reporter | None = None,
) -> TrainResult:
    """Train one global LSTM on every series of a CSV and write the model directory.

    Args:
        data_path: CSV of one series, or many in long format.
        config: training settings (lookback and season may be None: chosen from the data).
        out: the model directory to write (replaced whole, only once training succeeded).
        columns: column roles and frequency overrides.
        reporter: receives progress and warnings.

    Returns:
        A `TrainResult` with the validation metrics.

    Example:
        >>> train("sample_data/airpassengers.csv", TrainConfig(horizon=12), out="model")
    """
    reporter = reporter or SilentReporter()
    started = time.monotonic()
    out = Path(out)
    artifacts._check_parent(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file; expected a directory path for the model. Choose another --out.")
    if out.is_dir() and any(out.iterdir()) and not (out / artifacts.MANIFEST).is_file():
        raise OutputError(
            f"--out {out} is a folder that is not a model directory (it has no {artifacts.MANIFEST}); "
            "forecast replaces only model directories. Choose another --out, or empty that folder."
        )
    dataset, config = load_training(data_path, config, columns)
    reporter.info(f"Detected {dataset.describe()}")
    warn_ignored_rows(dataset, config, reporter)
    fitted = fit(dataset, config, reporter)
    config = fitted.config
    lengths = dataset.frame.groupby(ID, sort=True).size()
    info = {
        uid: artifacts.SeriesInfo(fitted.scalings[uid], last, int(lengths[uid]),
                                  (fitted.ets_params or {}).get(uid, artifacts.MISSING))
        for uid, last in dataset.frame.groupby(ID, sort=True)[TIME].max().items()
    }
    manifest = artifacts.manifest_dict(
        config=config, columns=dataset.columns, time_kind=dataset.time_kind, freq=dataset.freq,
        step=dataset.step, season=config.season, series=info, data_sha256=dataset.sha256,
        source=Path(dataset.source).name, versions=package_versions(),
        covariates=dict(zip(config.covariates, fitted.covariate_scalings or [])),
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    from forecast_cli import model as lstm

    with artifacts.staged_directory(out) as tmp:
        lstm.save(fitted.network, tmp / artifacts.KERAS_FILE)
        manifest["onnx"] = _export_onnx(fitted.network, tmp, fitted.x_val, reporter)
        manifest["files"] = artifacts.file_digests(tmp, [artifacts.KERAS_FILE, artifacts.ONNX_FILE])
        pd.DataFrame(fitted.history).to_csv(tmp / artifacts.HISTORY_FILE, index=False)
        (tmp / artifacts.METRICS_FILE).write_text(json.dumps(fitted.metrics, indent=2) + "\n")
        # The manifest goes last: a folder without one is never taken for a model.
        (tmp / artifacts.MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return TrainResult(
        out=out, config=config, dataset=dataset, n_series=len(info), train_windows=fitted.train_windows,
        val_windows=len(fitted.x_val), epochs_run=sum(1 for h in fitted.history if not h.get("refit")),
        best_epoch=fitted.best_epoch,
        seconds=time.monotonic() - started, metrics=fitted.metrics,
    )


def forecast_series(
    predict_fn: Any, config: TrainConfig, series: dict[str, np.ndarray], scalings: dict[str, Scaling],
    covariates: Covariates | None = None, ets_params: dict[str, Any] | None = None,
) -> np.ndarray:
    """Forecasts on the original scale from each series' last values: (n_series, horizon), or
    (n_series, horizon, quantiles) for a quantile model (see `windows.point_forecast`).
    `covariates` (with their scalings) are required for a model trained with covariates.
    `ets_params`: the saved ETS parameters by series id; a series without any (one not seen in
    training) gets the median of the saved ones, as the network applies what it learnt from the
    training series to it (fitted here only when none are saved)."""
    inputs, base = prediction_inputs(series, scalings, config.lookback, config.window_norm, config.season,
                                     config.horizon, covariates)
    forecast = invert_outputs(predict_fn(inputs), base, [scalings[u] for u in series], config.quantiles)
    if config.blend >= 1.0:
        return forecast
    params = None
    if ets_params is not None:
        params = [ets_params.get(uid, artifacts.MISSING) for uid in series]
        saved = [p for p in ets_params.values() if isinstance(p, dict)]
        if saved and artifacts.MISSING in params:
            typical = {key: float(np.median([p[key] for p in saved])) for key in baselines.ETS_KEYS}
            params = [typical if p == artifacts.MISSING else p for p in params]
    return blend(forecast, baseline_forecasts(series.values(), config, params=params), config.blend, config.quantiles)


ONNX_TOLERANCE = 1e-4  # largest |ONNX - Keras| output accepted, on the network's scaled outputs


def _export_onnx(network: Any, folder: Path, x_check: np.ndarray, reporter: Reporter) -> dict[str, Any]:
    """Write model.onnx and check it against Keras on the validation windows; drop it if they differ."""
    from forecast_cli import model as lstm
    from forecast_cli.engine import OnnxNetwork

    path = folder / artifacts.ONNX_FILE
    try:
        expected = lstm.predict(network, x_check)  # also builds a network never called yet
        lstm.export_onnx(network, path)
        diff = float(np.max(np.abs(OnnxNetwork(path).predict(x_check) - expected)))
    except Exception as exc:  # the exporter's failures are many; training still succeeds
        path.unlink(missing_ok=True)
        reason = f"export failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        reporter.warn(f"no model.onnx written ({reason}); predict will use Keras.")
        return {"file": None, "reason": reason}
    if not diff <= ONNX_TOLERANCE:
        path.unlink(missing_ok=True)
        reason = f"ONNX and Keras outputs differ by up to {diff:.3g} (tolerance {ONNX_TOLERANCE})"
        reporter.warn(f"no model.onnx written: {reason}; predict will use Keras.")
        return {"file": None, "reason": reason, "max_abs_diff": diff}
    reporter.info(f"Exported model.onnx (largest difference from Keras {diff:.2g} on {len(x_check)} windows)")
    return {"file": artifacts.ONNX_FILE, "max_abs_diff": diff, "checked_windows": int(len(x_check)),
            "tolerance": ONNX_TOLERANCE}


class Predictor:
    """A loaded model directory, ready to forecast any number of files (loaded once per process)."""

    def __init__(self, model_dir: str | Path, engine: str = "auto") -> None:
        from forecast_cli.engine import load_network

        self.model_dir = Path(model_dir)
        self.manifest = artifacts.read_manifest(self.model_dir)
        self.network = load_network(self.model_dir, self.manifest, engine)
        self.last_dataset: Dataset | None = None  # the data of the latest `forecast` call

    def forecast(
        self, data_path: str | Path, reporter: Reporter | None = None, as_of: str | None = None
    ) -> pd.DataFrame:
        """Forecast the next `horizon` values of every series in a CSV (see `predict`)."""
        reporter = reporter or SilentReporter()
        manifest, cfg = self.manifest, self.manifest.config
        dataset = load_series(data_path, freq=manifest.freq, fill=cfg.fill, columns=manifest.columns,
                              expect_time_kind=manifest.time_kind, as_of=as_of, covariates=from_file(cfg.covariates),
                              split_future=True)
        dataset = dataclasses.replace(dataset, frame=with_calendar(dataset.frame, cfg.future_covariates))
        reporter.info(f"Read {dataset.describe()}")
        warn_ignored_rows(dataset, cfg, reporter)
        self.last_dataset = dataset
        series = series_arrays(dataset.frame)
        short = {uid: len(v) for uid, v in series.items() if len(v) < cfg.lookback}
        if short:
            uid, n = next(iter(short.items()))
            raise DataError(
                f"{dataset.source}: series {uid!r} has {n} values but the model reads the last "
                f"{cfg.lookback} (lookback); {len(short)} series are that short. Give each series at "
                "least that much history, or retrain with a smaller --lookback."
            )
        log = cfg.transform == "log"
        if log:
            bad = next((u for u, v in series.items() if not (v >= 0).all()), None)
            if bad is not None:
                raise DataError(
                    f"{dataset.source}: series {bad!r} has negative values, but the model was trained on "
                    "log(1 + value) of values that were all 0 or more (--transform log, or auto). "
                    "Retrain with --transform none."
                )
        scalings: dict[str, Scaling] = {}
        new = []
        for uid, values in series.items():
            known = manifest.series.get(uid)
            if known is not None:
                scalings[uid] = known.scaling
            else:
                scalings[uid] = fit_scaling(values, log, cfg.scaling)
                new.append(uid)
        if new:
            reporter.info(
                f"{len(new)} series not seen in training (e.g. {new[0]!r}) are scaled from their own history."
            )
        last = dataset.frame.groupby(ID, sort=True)[TIME].max()
        times = future_grid(last.to_numpy(), cfg.horizon, manifest.time_kind, manifest.freq, manifest.step)
        covariates = None
        if cfg.covariates:
            ahead = future_rows(dataset, cfg, last, times) if cfg.future_covariates else None
            covariates = covariate_values(dataset.frame, cfg, ahead, [manifest.covariates[c] for c in cfg.covariates])
        ets_params = {uid: info.ets for uid, info in manifest.series.items()}
        forecasts = forecast_series(self.network.predict, cfg, series, scalings, covariates, ets_params)
        return forecast_frame(list(series), times, forecasts, cfg)


def forecast_frame(ids: list[str], times: np.ndarray, forecasts: np.ndarray, config: TrainConfig) -> pd.DataFrame:
    """The forecast file's rows: unique_id, ds, yhat, and one column per quantile (q0.1, ...)."""
    columns = {ID: np.repeat(ids, config.horizon), TIME: times,
               "yhat": point_forecast(forecasts, config.quantiles).reshape(-1)}
    for k, level in enumerate(config.quantiles):
        columns[quantile_column(level)] = forecasts[..., k].reshape(-1)
    return pd.DataFrame(columns)


def predict(
    model_dir: str | Path,
    data_path: str | Path,
    reporter: Reporter | None = None,
    engine: str = "auto",
    as_of: str | None = None,
) -> pd.DataFrame:
    """Forecast the next `horizon` values of every series in a CSV with a trained model.

    Series seen in training are scaled with their training statistics; a new series is scaled
    with the statistics of its own history in the file.

    Args:
        model_dir: a directory written by `train`.
        data_path: CSV with the columns the model was trained on; each series needs at least
            `lookback` values.
        reporter: receives notes.
        engine: `onnx` (ONNX Runtime, no TensorFlow), `keras`, or `auto` (ONNX when the model
            has a checked model.onnx).
        as_of: forecast from this time (rows after it are ignored).

    Returns:
        A frame with columns unique_id, ds, yhat: `horizon` rows per series.

    Example:
        >>> predict("model", "sample_data/airpassengers.csv").head()
    """
    return Predictor(model_dir, engine).forecast(data_path, reporter, as_of)


def forecasts_to_csv(frame: pd.DataFrame) -> str:
    """The forecast file's text: fixed float formatting so equal forecasts give equal bytes."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.8g", lineterminator="\n")
    return buffer.getvalue()
