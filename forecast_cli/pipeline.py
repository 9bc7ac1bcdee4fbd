"""train() and predict(): the orchestration of data, windows, model, baselines and the model directory (no printing)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from forecast_cli import __version__, baselines
from forecast_cli.atomic import check_parent, staged_directory
from forecast_cli.blend import ValidationView, blend, validation_metrics
from forecast_cli.config import (TrainConfig, default_batch_size, default_patch, intermittent_note, lookback_cut,
                                 padded_note, padded_text, refit_epochs, resolve_config, validation_series, with_horizon,
                                 zero_shares)
from forecast_cli.covariates import covariate_values, from_file, future_rows, with_calendar
from forecast_cli.data import (ID, TIME, Columns, Dataset, Written, load_series, season_hint, series_arrays, time_text,
                               with_keys, written_otherwise, written_why)
from forecast_cli.errors import DataError, OutputError, UsageError
from forecast_cli.forecast_file import forecast_frame
from forecast_cli.manifest import (HISTORY_FILE, KERAS_FILE, MANIFEST, METRICS_FILE, ONNX_FILE,
                                   DataInfo, Manifest, ScalingEntry, SeriesInfo, file_digests, format_of)
from forecast_cli.output import Reporter, SilentReporter, counted
from forecast_cli.timegrid import calendar_columns, data_horizon, future_grid, longer_season
from forecast_cli.windows import (Covariates, Scaling, WindowSet, fit_scaling, invert_outputs, make_windows,
                                 prediction_inputs)


@dataclasses.dataclass(frozen=True)
class ColumnOptions:
    """Column roles and time handling as given on the command line (None: detect)."""

    time_col: str | None = None
    target_col: str | None = None
    id_col: str | None = None
    freq: str | None = None
    wide: bool = False  # one column per series
    as_of: str | None = None  # the data up to this time only (`--as-of`), as `predict --as-of` reads it


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What `train` did: where it wrote the model, with which settings, and its validation scores."""

    out: Path
    config: TrainConfig
    n_series: int
    train_windows: int
    epochs_run: int
    best_epoch: int
    seconds: float
    metrics: dict[str, Any]


VERSIONED = ("tensorflow", "keras", "numpy", "pandas", "statsmodels", "onnxruntime", "tf2onnx", "onnx")


def package_versions() -> dict[str, str]:
    """The versions of Python, forecast and every package that shapes a model (kept in its manifest)."""
    versions = {"python": platform.python_version(), "forecast": __version__}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def load_training(data_path: str | Path, config: TrainConfig, columns: ColumnOptions = ColumnOptions(),
                  reporter: Reporter | None = None) -> tuple[Dataset, TrainConfig]:
    """Read the training CSV with its covariate columns, say what was detected and what was set
    aside; the config's past covariates resolved (every other numeric column unless named)."""
    reporter = reporter or SilentReporter()
    future = config.future_covariates
    # Without --past-covariates every other column of numbers is one; the named future ones are
    # checked as named (a column that is missing, plays another role, or holds text is refused).
    dataset = load_series(data_path, columns.time_col, columns.target_col, columns.id_col, columns.freq, config.fill,
                          covariates=(*(config.past_covariates or ()), *future),
                          auto_covariates=config.past_covariates is None, split_future=True, wide=columns.wide,
                          written=Written.of(config), aggregate=config.aggregate, as_of=columns.as_of)
    past = tuple(c for c in dataset.covariates if c not in future)
    if dataset.found_written is not None:  # the model reads later files as this one was read
        config = dataclasses.replace(config, decimal_comma=dataset.found_written.decimal_comma,
                                     thousands_comma=dataset.found_written.thousands_comma)
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
    config = dataclasses.replace(config, past_covariates=past, future_covariates=future)
    reporter.info(f"Detected {dataset.describe()}")
    if columns.as_of is not None:
        reporter.info(as_of_note(columns.as_of, dataset.after))
    default = data_horizon(dataset.time_kind, dataset.freq, dataset.columns.time_col, dataset.step,
                           dataset.frame[TIME].to_numpy())
    config, note = with_horizon(config, default, dataset.source)
    if note:
        reporter.info(note)
    warn_ignored_rows(dataset, config, reporter)
    for warning in (summed_as_one_note(dataset, config.aggregate),
                    mostly_filled_note(dataset, config.fill, model_freq=False)):
        if warning:
            reporter.warn(warning)
    if dataset.empty:
        reporter.warn(no_values_note(dataset))
    hint = season_hint(dataset, config.seasons or ((config.season,) if config.season else ()))
    if hint:
        reporter.warn(hint)
    return dataset, config


def as_of_note(as_of: str, after: int) -> str:
    """What training read of data cut at `--as-of` (one process, or the parts on a cluster)."""
    return f"Data as of {as_of}: {after} row(s) after it left out"


def no_values_note(dataset: Dataset) -> str:
    """The warning for series listed with no value at all (a product listed before its first
    sale, in a nightly export), which training leaves out as it does series too short to give a
    window: nothing about them can be learnt, and the other series need not wait for them."""
    empty = dataset.empty
    one = len(empty) == 1
    shown = ", ".join(repr(s) for s in empty[:5]) + (", ..." if len(empty) > 5 else "")
    return (f"{dataset.source}: {len(empty)} series with no value at all {'was' if one else 'were'} left out of "
            f"training: {shown}. Once {'it has' if one else 'they have'} values, predict forecasts "
            f"{'it' if one else 'them'} as {'a series' if one else 'series'} new to the model.")


def summed_as_one_note(dataset: Dataset, aggregate: str | None) -> str | None:
    """The warning for rows made one per period (`--aggregate`) as one series while columns
    beside them, or the partition columns of its folders, are not read: a shop or product column
    is found as the id only where the times repeat, and events at any time seldom share one. None
    where it does not apply."""
    columns = dataset.columns
    unread = (*columns.ignored, *dataset.layout)  # the folders' names (shop=north/) too
    if aggregate is None or columns.id_col is not None or columns.series or not unread:
        return None
    return (f"{dataset.source}: the rows of each period were {'summed' if aggregate == 'sum' else 'averaged'} as one "
            f"series, and {', '.join(map(repr, unread))} not read; if they tell series apart, name them with "
            f"--id-col {','.join(unread)}.")


def mostly_filled_note(dataset: Dataset, fill: str, model_freq: bool) -> str | None:
    """The warning for series with more values filled in than read (`Dataset.made`): weekly
    values in a file for a daily model are read on the daily grid, six days in seven made up by
    --fill, and forecast from those with no more than a note; or `None`. `model_freq`: the grid
    is a model's (a later file), else the training file's own."""
    if dataset.made is None or not dataset.made.any():
        return None
    made = pd.Series(dataset.made).groupby(dataset.frame[ID].to_numpy(), sort=True).agg(["sum", "size"])
    mostly = made[made["sum"] > made["size"] / 2]
    if mostly.empty:
        return None
    uid, row = next(iter(mostly.iterrows()))
    grid = f"{dataset.freq} grid" if dataset.freq else f"grid of steps of {dataset.step}"
    whose = "the model's " if model_freq else "the "
    fix = ("if its times are further apart (weekly values for a daily model), forecast them with a model of their "
           "own frequency" if model_freq else "if the times are further apart, give --freq with their frequency")
    return (f"{dataset.source}: {len(mostly)} series {'has' if len(mostly) == 1 else 'have'} more values filled in "
            f"(--fill {fill}) than read on {whose}{grid} (e.g. {uid!r}: {int(row['sum'])} of {int(row['size'])}); "
            f"{fix}.")


def warn_ignored_rows(dataset: Dataset, config: TrainConfig, reporter: Reporter, use: str = "train") -> None:
    """Say so when rows after a series' last value (empty target) are not read (`ignored_rows`)."""
    warning = ignored_rows(dataset, config, use)
    if warning:
        reporter.warn(warning)


def ignored_rows(dataset: Dataset, config: TrainConfig, use: str = "train") -> str | None:
    """The warning for rows after a series' last value (empty target), which are not read:
    without future covariates from the file they carry nothing, and filling them would invent
    values. To `train` they may be covariates not named; in a later file (`use` "forecast", or
    "check" for `detect`) they are more often values that have not arrived, and the forecast
    starts at the first of them, or the values checked end before it. None when there are none,
    or when they carry the future covariates."""
    rows = dataset.future
    if rows is None or len(rows) == 0 or from_file(config.future_covariates):
        return None
    first = rows.iloc[0]
    when = time_text(first[TIME])
    fix = ("Remove those rows, or name their columns with --future-covariates if they hold values known ahead."
           if use == "train" else "Fill in the values (the latest may not have arrived), or remove those rows.")
    then = {"train": "", "forecast": f" and is forecast from there ({first[ID]!r} from {when})",
            "check": f", and the values checked end there ({first[ID]!r} before {when})"}[use]
    return (
        f"{dataset.source}: {len(rows)} row(s) after the last value of their series have an empty "
        f"{dataset.columns.target_col!r} (e.g. series {first[ID]!r} at {when}); they were ignored, so each "
        f"series ends at its last value{then}. {fix}"
    )


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
    ets_params: dict[str, dict[str, float] | None] | None = None  # per series, for a fitted partner
    validation: ValidationView | None = None  # the validation forecasts the metrics score, to draw

    @property
    def keeps_ets(self) -> bool:
        """Whether the forecast blends in a fitted partner (ETS, ETS+Theta), whose parameters per
        series the model then keeps."""
        return self.config.baseline in baselines.FITS and self.config.blend < 1.0


@dataclasses.dataclass(frozen=True)
class TrainingData:
    """What the model directory records about the training data, wherever it was read."""

    columns: Columns
    time_kind: str
    freq: str | None
    step: int
    source: str
    sha256: str
    last: pd.Series  # each series' last time, by id in sorted order

    @classmethod
    def of(cls, dataset: Dataset) -> TrainingData:
        return cls(dataset.columns, dataset.time_kind, dataset.freq, dataset.step, dataset.source, dataset.sha256,
                   dataset.frame.groupby(ID, sort=True)[TIME].max())


def cut_windows(series: dict[str, np.ndarray], config: TrainConfig, covariates: Covariates | None = None,
                validate: frozenset[str] | None = None, refit: bool = False) -> WindowSet:
    """The windows of `series` under a resolved config: training and validation windows (those
    of the `validate` series; None: all), or with `refit` every window for training."""
    return make_windows(series, config.lookback, config.horizon, 0 if refit else config.val_windows,
                        config.max_windows, config.window_norm, config.season, log=config.transform == "log",
                        scaling=config.scaling, covariates=covariates, validate=None if refit else validate)


def fit(dataset: Dataset, config: TrainConfig, reporter: Reporter | None = None,
        mapper: baselines.Mapper | None = None) -> Fitted:
    """Window, scale and train on an in-memory dataset; score on its validation windows.

    Args:
        dataset: from `load_series`.
        config: training settings (lookback, season and batch size may be None: resolved).
        reporter: receives progress and warnings.
        mapper: spreads the per-series ETS fits, as `map` would run them (`cluster.spread`:
            over Dask workers); None: one after another here.

    Returns:
        A `Fitted` network, its resolved config, the per-series scalings and the scores.
    """
    reporter = reporter or SilentReporter()
    series = series_arrays(dataset.frame)
    resolved = resolve_config(config, series, dataset.seasons, dataset.source)
    report_settings(config, resolved, np.array([len(v) for v in series.values()]), list(series),
                    zero_shares(series), dataset.source, reporter)
    config = resolved
    covariates = covariate_values(dataset.frame, config)
    # The windows are handed over, not kept here, so that they are freed before the refit's.
    fitted = fit_windows(_with_ets_ahead(cut_windows(series, config, covariates,
                                                     validation_series(list(series), config.seed)),
                                         series, config, mapper),
                         lambda: cut_windows(series, config, covariates, refit=True), config, dataset.source,
                         reporter, mapper)
    if fitted.keeps_ets:
        # Like the refit: the smoothing parameters that predict applies come from all the data.
        reporter.info(f"Fitting the {baselines.LABELS[fitted.config.baseline]} baseline to {len(series)} series")
        fits = (mapper or map)(*_final_ets_call(series, fitted.config))
        fitted.ets_params = dict(zip(series, fits, strict=True))
    return fitted


def report_settings(given: TrainConfig, resolved: TrainConfig, lengths: np.ndarray, ids: list[str],
                    zeros: np.ndarray, source: object, reporter: Reporter) -> None:
    """What training says of the settings it resolved from the data, in one process or from a
    cluster's survey of its parts: a lookback the shortest series cut (`lookback_cut`), series
    that are mostly zeros (`intermittent_note`), and the series read padded (`padded_note`)."""
    for warning in (lookback_cut(given, resolved, lengths, ids), intermittent_note(ids, zeros, given)):
        if warning:
            reporter.warn(warning)
    if resolved.min_history:
        reporter.info(f"{source}: {padded_note(lengths, ids, resolved.lookback, resolved.season)}")


def _final_ets_call(series: dict[str, np.ndarray], config: TrainConfig) -> tuple[Any, ...]:
    """The final model's partner fits: each series' whole history at the partner's season."""
    n = len(series)
    return (baselines.FITS[config.baseline], list(series.values()), [config.baseline_season] * n,
            [config.transform == "log"] * n)


def _with_ets_ahead(ws: WindowSet, series: dict[str, np.ndarray], config: TrainConfig,
                    mapper: baselines.Mapper | None) -> WindowSet:
    """Start the partner's fits that come after the network (the validation windows', the final
    model's) on the core the network leaves idle, where the mapper can (`pool.LocalMapper.ahead`)
    and a fitted partner (ETS, ETS+Theta) may be blended in: the season is known before training
    unless the validation chooses it among several (or looks for a longer one). Returns the
    windows, so that the caller hands them on without keeping a reference (they are freed before
    the refit's)."""
    ahead = getattr(mapper, "ahead", None)
    blended = config.blend is None or config.blend < 1.0
    if (ahead is None or config.baseline not in baselines.FITS or not blended or from_file(config.future_covariates)
            or len(config.seasons) > 1 or _longer_season_found(ws, config)):
        return ws
    ahead(*baselines.calls(ws.val_history, config.horizon, config.baseline_season, config.baseline,
                           config.transform == "log"))
    ahead(*_final_ets_call(series, config))
    return ws


def _longer_season_found(ws: WindowSet, config: TrainConfig) -> bool:
    """Whether the validation will offer the partner a longer season than the named one
    (`blend.validation_metrics` looks for it in the same histories)."""
    return bool(config.longer_season_limit
                and longer_season(ws.val_history, config.season, config.longer_season_limit)[0])


def fit_windows(ws: WindowSet, refit_windows: Callable[[], WindowSet], config: TrainConfig, source: str,
                reporter: Reporter, mapper: baselines.Mapper | None = None) -> Fitted:
    """Train the network on the training windows, stop early and choose the forecast on the
    validation windows, then (with `config.refit`) train again on `refit_windows()`, which holds
    every window, for the epochs that were best. The windows may come from this process or from
    the parts of the data on a cluster (`cluster_train`); the per-series ETS parameters of the
    final model are left to the caller."""
    if ws.short:
        shown = ", ".join(repr(s) for s in ws.short[:5]) + (", ..." if len(ws.short) > 5 else "")
        one = len(ws.short) == 1
        reporter.warn(
            f"{len(ws.short)} series shorter than lookback {config.lookback} + horizon {config.horizon} "
            f"{'was' if one else 'were'} not used for training: {shown}. {'It' if one else 'They'} can still be "
            f"forecast with at least {counted(config.least_history, 'value')}."
        )
    if len(ws.x_train) == 0 or len(ws.x_val) == 0:
        need = config.lookback + config.horizon * (1 + config.val_windows)
        raise DataError(
            f"{source}: no series is long enough to give both training and validation windows "
            f"(lookback {config.lookback} + horizon {config.horizon} + validation "
            f"{config.val_windows} x {config.horizon} = {need} rows). Use a smaller --lookback or --horizon."
        )
    if config.batch_size is None:
        config = dataclasses.replace(config, batch_size=default_batch_size(len(ws.x_train)))
    if config.patch is None:
        config = dataclasses.replace(config, patch=default_patch(config.input_steps))
    patches = f", read in patches of {config.patch}" if config.patch > 1 else ""
    reporter.info(
        f"Training on {counted(len(ws.x_train), 'window')} from {ws.train_series} series "
        f"(lookback {config.lookback}{patches}, horizon {config.horizon}, season {config.season}); "
        f"validating on {counted(len(ws.x_val), 'window')} of {len(set(ws.val_ids))} series"
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
    scores, validation = validation_metrics(ws, val_forecast, config, mapper)  # chooses the blend weight, partner
    config = dataclasses.replace(config, blend=scores["blend_weight"], baseline=scores["baseline"],
                                 partner_season=scores.get("partner_season", config.partner_season))
    best_epoch = best_epochs[0]
    scalings, covariate_scalings = ws.scalings, ws.covariate_scalings
    train_windows, x_val = len(ws.x_train), ws.x_val
    if config.refit:
        # Model selection is done; train on every window, validation part included (the newest
        # values of every series): the validated network on for a quarter of the epochs that were
        # best, or a new one for all of them. The metrics above describe the validated network.
        del ws  # the refit's windows replace them
        full = refit_windows()
        validated, members = members, []
        for member, best in enumerate(best_epochs):
            epochs = refit_epochs(best, config.refit_start)
            start = validated[member] if config.refit_start == "validated" else None
            reporter.info(f"Refitting on all the data for {counted(epochs, 'epoch')}"
                          + (" from the validated network" if start is not None else ""))
            member_config = dataclasses.replace(config, seed=config.seed + member)
            network, rows = lstm.fit(member_config, full.x_train, full.y_train, None, None,
                                     on_epoch=reporter.epoch, epochs=epochs, start=start)
            members.append(network)
            history += [{**row, "member": member + 1, "refit": 1} for row in rows]
        network = lstm.average(members)
        scalings = full.scalings
        covariate_scalings = full.covariate_scalings
        scores["refit_epochs"] = [refit_epochs(best, config.refit_start) for best in best_epochs]
    return Fitted(network=network, config=config, scalings=scalings, history=history, best_epoch=best_epoch,
                  metrics=scores, train_windows=train_windows, x_val=x_val, covariate_scalings=covariate_scalings,
                  validation=validation)


def train(
    data_path: str | Path,
    config: TrainConfig,
    out: str | Path = "model",
    columns: ColumnOptions = ColumnOptions(),
    reporter: Reporter | None = None,
    mapper: baselines.Mapper | None = None,
    client: Any = None,
    on_validation: Callable[[ValidationView, Dataset], None] | None = None,
) -> TrainResult:
    """Train one global LSTM on every series of a CSV and write the model directory.

    Args:
        data_path: CSV of one series, or many in long format.
        config: training settings (lookback and season may be None: chosen from the data).
        out: the model directory to write (replaced whole, only once training succeeded).
        columns: column roles and frequency overrides.
        reporter: receives progress and warnings.
        mapper: spreads the per-series ETS fits (see `fit`).
        client: a Dask client. With Parquet data in several parts and no covariates, the workers
            read, check and window the parts and fit the per-series ETS; this process holds
            the windows, not the data (`cluster_train`). Else the data is read here.
        on_validation: called, once the model directory is written, with the validation
            forecasts and the data read here (`train --plot`); not where a client's workers read
            the data (Parquet parts).

    Returns:
        A `TrainResult` with the validation metrics.

    Example:
        >>> result = train("history.csv", TrainConfig(horizon=12, epochs=1), out="new-model")
        >>> sorted(path.name for path in Path("new-model").iterdir())
        ['history.csv', 'manifest.json', 'metrics.json', 'model.keras', 'model.onnx']
    """
    reporter = reporter or SilentReporter()
    started = time.monotonic()
    out = Path(out)
    check_parent(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file; expected a directory path for the model. Choose another --out.")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise OutputError(
            f"--out {out} is a folder that is not a model directory (it has no {MANIFEST}); "
            "forecast replaces only model directories. Choose another --out, or empty that folder."
        )
    trained = None
    if client is not None:
        from forecast_cli.cluster_train import fit_parts

        trained = fit_parts(client, data_path, config, columns, reporter, out)
    dataset = None
    if trained is None:
        dataset, config = load_training(data_path, config, columns, reporter)
        trained = fit(dataset, config, reporter, mapper), TrainingData.of(dataset)
    fitted, data = trained
    config = fitted.config
    integer = data.time_kind == "integer"
    info = {
        str(uid): SeriesInfo(mean=fitted.scalings[uid].mean, scale=fitted.scalings[uid].scale,
                             unit=fitted.scalings[uid].unit,
                             last=int(last) if integer else pd.Timestamp(last).isoformat(),
                             ets=(fitted.ets_params or {}).get(uid, baselines.MISSING))
        for uid, last in data.last.items()
    }
    manifest = Manifest(
        format_version=format_of(info, config), created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        versions=package_versions(), config=config, columns=data.columns, time_kind=data.time_kind,
        freq=data.freq, step=data.step, season=config.season,
        data=DataInfo(source=Path(data.source).name, sha256=data.sha256, series=len(info), as_of=columns.as_of),
        series=info, files={},
        covariates={name: ScalingEntry(s.mean, s.scale)
                    for name, s in zip(config.covariates, fitted.covariate_scalings or [])},
    )
    from forecast_cli import model as lstm
    from forecast_cli.engine import export_checked

    with staged_directory(out) as tmp:
        lstm.save(fitted.network, tmp / KERAS_FILE)
        onnx = export_checked(fitted.network, tmp, fitted.x_val, reporter)
        manifest = dataclasses.replace(manifest, onnx=onnx, files=file_digests(tmp, [KERAS_FILE, ONNX_FILE]))
        pd.DataFrame(fitted.history).to_csv(tmp / HISTORY_FILE, index=False)
        (tmp / METRICS_FILE).write_text(json.dumps(fitted.metrics, indent=2) + "\n")
        # The manifest goes last: a folder without one is never taken for a model.
        (tmp / MANIFEST).write_text(manifest.to_json())
    if on_validation is not None and dataset is not None and fitted.validation is not None:
        on_validation(fitted.validation, dataset)
    return TrainResult(
        out=out, config=config, n_series=len(info), train_windows=fitted.train_windows,
        epochs_run=sum(1 for h in fitted.history if not h.get("refit")), best_epoch=fitted.best_epoch,
        seconds=time.monotonic() - started, metrics=fitted.metrics,
    )


def forecast_series(
    predict_fn: Any, config: TrainConfig, series: dict[str, np.ndarray], scalings: dict[str, Scaling],
    covariates: Covariates | None = None, ets_params: dict[str, Any] | None = None, settle: bool = True,
) -> np.ndarray:
    """Forecasts on the original scale from each series' last values: (n_series, horizon), or
    (n_series, horizon, quantiles) for a quantile model (see `blend.point_forecast`), blended
    with the config's baseline by its weight. `covariates` (with their scalings) are required for
    a model trained with covariates. `ets_params`: the saved ETS parameters by series id (see
    `baselines.saved_params`; None: fitted here). The forecasts are then `settled` (`settle`
    False leaves that to a caller that blends the network's forecast itself)."""
    inputs, base = prediction_inputs(series, scalings, config.lookback, config.window_norm, config.season,
                                     config.horizon, covariates)
    forecast = invert_outputs(predict_fn(inputs), base, [scalings[u] for u in series], config.quantiles)
    if config.blend < 1.0:
        params = None if ets_params is None else baselines.saved_params(series, ets_params)
        forecast = blend(forecast, baselines.for_config(series.values(), config, params=params), config.blend,
                         config.quantiles)
    return settled(forecast, series.values(), config) if settle else forecast


def settled(forecast: np.ndarray, histories: Iterable[np.ndarray], config: TrainConfig) -> np.ndarray:
    """The forecasts (one row per history, quantiles too), changed in place and returned, with
    two rules for what no model can know better, so that a forecast does not wander where every
    statistical forecast agrees:

    - A constant history (a product no longer sold: all zeros) is forecast at its value, unless
      the model reads covariates, which may move it. The network alone forecast a constant 250
      at 248.9 to 250.0, and a series of zeros a few thousandths below zero.
    - A model on the log scale (data with no negative value) forecasts no negative value for a
      history with none, which a table of quantities may refuse; a history that went below zero
      keeps its forecast as it is.
    """
    histories = list(histories)
    starts = np.cumsum([0] + [len(h) for h in histories[:-1]])
    values = np.concatenate(histories)  # one reduction over every history, not two calls each
    lowest, highest = np.minimum.reduceat(values, starts), np.maximum.reduceat(values, starts)
    # Changed in place: a million series' forecasts are 48 million values, and each new array of
    # them costs about a second here.
    if config.transform == "log":
        np.maximum(forecast, 0.0, out=forecast, where=(lowest >= 0).reshape(-1, *[1] * (forecast.ndim - 1)))
    if not config.covariates:
        constant = np.flatnonzero(lowest == highest)
        forecast[constant] = lowest[constant].reshape(-1, *[1] * (forecast.ndim - 1))
    return forecast


def new_series_note(new: list[str], count: int, known: list[str], source: object,
                    names: tuple[str, ...] = ()) -> tuple[str, bool]:
    """What `predict` says of the series of a file that the model was not trained on (`new`, of
    `count`; `known`: the model's), and whether it is a warning: a note, as new products are
    ordinary; but a warning naming the file when their ids are the model's written another way
    (101.0 for 101: a changed export that stores the id column as decimal numbers; 7 for 007: a
    spreadsheet that dropped the leading zeros), since each is then forecast as a new series. The
    ids of a model of several id columns are compared column by column (`1.0/EGGS` for `1/EGGS`),
    and the warning names the column (of `names`, the id columns) that differs.

    Example:
        >>> new_series_note(["d"], 4, ["a", "b", "c"], "f.csv")
        ("1 series not seen in training (e.g. 'd') are scaled from their own history.", False)
        >>> print(new_series_note(["101.0", "102.0"], 2, ["101", "102"], "f.csv")[0])
        f.csv: 2 of its 2 series are not ones the model was trained on, and 2 of those are the model's ids written another way ('101.0' here, '101' in training): an id column stored as decimal numbers? Each is scaled from its own history and forecast as a new series; write the ids as in training.
        >>> new_series_note(["7"], 1, ["007"], "f.csv")[0]
        "f.csv: ... ('7' here, '007' in training): their leading zeros dropped, as a spreadsheet or ..."
        >>> new_series_note(["1.0/BREAD/BAKERY"], 1, ["1/BREAD/BAKERY"], "f.csv")[0]
        "f.csv: ... ('1.0/BREAD/BAKERY' here, '1/BREAD/BAKERY' in training): an id column stored as decimal ..."
    """
    alike = written_otherwise(new, known)
    if not alike:
        return f"{len(new)} series not seen in training (e.g. {new[0]!r}) are scaled from their own history.", False
    here, before = alike[0]
    why = written_why(here, before, names)
    return (f"{source}: {len(new)} of its {count} series are not ones the model was trained on, and {len(alike)} "
            f"of those are the model's ids written another way ({here!r} here, {before!r} in training): {why} "
            "Each is scaled from its own history and forecast as a new series; write the ids as in training."), True


def short_series_error(source: object, example: tuple[str, int], count: int, lookback: int,
                       skip_short: bool, least: int | None = None) -> DataError:
    """The error for `count` series shorter than the model's lookback, or than `least` values
    where the model pads series down to that (`TrainConfig.min_history`), `example` one of them
    (id, values); with `skip_short`, they are every series of the file."""
    uid, n = example
    if least is not None and least < lookback:
        needs = (f"the model forecasts series of at least {least} values (the shortest it was trained on; it reads "
                 f"the last {lookback}, a shorter series padded)")
        fix = "Give each series at least that much history, or retrain with these series in the training data"
    else:
        needs = f"the model reads the last {lookback} (lookback)"
        fix = "Give each series at least that much history, or retrain with a smaller --lookback"
    return DataError(
        f"{source}: series {uid!r} has {counted(n, 'value')} but {needs}; "
        f"{count} series {'is' if count == 1 else 'are'} that short" + (", every one in the file. " if skip_short else ". ")
        + fix + ("." if skip_short else "; or pass --skip-short to leave these out and go on with the others.")
    )


def short_series_warning(source: object, example: tuple[str, int], count: int, lookback: int,
                         least: int | None = None) -> str:
    """The warning for `count` series left out as shorter than the lookback, or than `least`
    (`short_series_error`), with `--skip-short`."""
    uid, n = example
    return f"{source}: left out {count} series {too_short(lookback, least)} (e.g. {uid!r}, {counted(n, 'value')}): --skip-short."


def too_short(lookback: int, least: int | None = None) -> str:
    """What the series left out by `--skip-short` are shorter than: the lookback, or the `least`
    values a model that pads series forecasts from."""
    if least is not None and least < lookback:
        return f"shorter than the {least} values the model forecasts from"
    return f"shorter than the model's lookback of {lookback}"


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A file read for a model: its series, their scalings, which of them are new to the model,
    the forecast's timestamps and any covariates (rows of the horizon included)."""

    dataset: Dataset
    series: dict[str, np.ndarray]
    scalings: dict[str, Scaling]
    new: tuple[str, ...]
    times: np.ndarray
    covariates: Covariates | None
    skipped: dict[str, int] = dataclasses.field(default_factory=dict)  # left out as too short: id -> values


class Predictor:
    """A loaded model directory, ready to forecast any number of files (loaded once per process)."""

    def __init__(self, model_dir: str | Path, engine: str = "auto", steps: int | None = None) -> None:
        """`steps`: the forecast's first steps written (`predict --horizon`), at most the model's
        horizon; None: all of them."""
        from forecast_cli.engine import load_model

        self.model_dir = Path(model_dir)
        self.manifest, self.network = load_model(self.model_dir, engine)
        horizon = self.manifest.config.horizon
        if steps is not None and not 1 <= steps <= horizon:
            raise UsageError(
                f"--horizon {steps}: the model {self.model_dir} forecasts {horizon} steps, so predict writes 1 to "
                f"{horizon} of them." + (f" For more, train again with --horizon {steps}." if steps > horizon else "")
            )
        self.steps = steps or horizon
        self.last_dataset: Dataset | None = None  # the data of the latest `forecast` call

    def prepare(self, data_path: str | Path, reporter: Reporter | None = None, as_of: str | None = None,
                skip_short: bool = False, part: bool = False, checking: bool = False) -> Prepared:
        """Read a CSV as the model expects it and gather what forecasting its series needs: the
        checks, each series' scaling (the training one, or its own history's for a new series),
        the forecast's timestamps and any covariates (see `predict`). A series shorter than the
        lookback (than `min_history`, for a model that pads) is an error, or with `skip_short`
        left out (`Prepared.skipped`); a file none of whose series is long enough is an error
        still, unless it is one `part` of a file on a cluster, whose driver judges the whole file.
        `checking`: for `detect`, which checks the latest values rather than forecasting from them
        (only the words of a warning differ)."""
        reporter = reporter or SilentReporter()
        manifest, cfg = self.manifest, self.manifest.config
        dataset = load_series(data_path, freq=manifest.grid_freq, fill=cfg.fill, columns=manifest.columns,
                              expect_time_kind=manifest.time_kind, as_of=as_of, covariates=from_file(cfg.covariates),
                              split_future=True, written=Written.of(cfg), aggregate=cfg.aggregate,
                              known_ahead=bool(from_file(cfg.future_covariates)))
        dataset = dataclasses.replace(dataset, frame=with_calendar(dataset.frame, cfg.future_covariates))
        reporter.info(f"Read {dataset.describe()}")
        warn_ignored_rows(dataset, cfg, reporter, "check" if checking else "forecast")
        filled = mostly_filled_note(dataset, cfg.fill, model_freq=True)
        if filled:
            reporter.warn(filled)
        series = series_arrays(dataset.frame)
        # A series with no value yet (a new product listed before its first sale) is the
        # shortest of the short: left out with --skip-short, else it fails the file.
        short = {uid: len(v) for uid, v in series.items() if len(v) < cfg.least_history}
        short.update(dict.fromkeys(dataset.empty, 0))
        if short and not (skip_short and (part or len(short) < len(series) + len(dataset.empty))):
            raise short_series_error(dataset.source, next(iter(short.items())), len(short), cfg.lookback, skip_short,
                                     cfg.least_history)
        if short and not part:  # a part's driver says it once of the whole file
            reporter.warn(short_series_warning(dataset.source, next(iter(short.items())), len(short), cfg.lookback,
                                               cfg.least_history))
        if short:
            series = {uid: values for uid, values in series.items() if uid not in short}
            keep = ~dataset.frame[ID].isin(list(short))
            future = None if dataset.future is None else dataset.future[~dataset.future[ID].isin(list(short))]
            dataset = dataclasses.replace(dataset, frame=dataset.frame[keep].reset_index(drop=True), future=future,
                                          made=None if dataset.made is None else dataset.made[keep.to_numpy()])
        self.last_dataset = dataset
        log = cfg.transform == "log"
        scalings: dict[str, Scaling] = {}
        new = []
        for uid, values in series.items():
            known = manifest.scaling(uid)
            if known is not None:
                scalings[uid] = known
            else:
                scalings[uid] = fit_scaling(values, log, cfg.scaling)
                new.append(uid)
        if new:
            note, warning = new_series_note(new, len(series), list(manifest.series), dataset.source,
                                            manifest.columns.id_names)
            (reporter.warn if warning else reporter.info)(note)
        last = dataset.frame.groupby(ID, sort=True)[TIME].max()
        times = future_grid(last.to_numpy(), cfg.horizon, manifest.time_kind, manifest.grid_freq, manifest.step)
        covariates = None
        if cfg.covariates:
            ahead = future_rows(dataset, cfg, last, times, checking) if cfg.future_covariates else None
            covariates = covariate_values(dataset.frame, cfg, ahead, manifest.covariate_scalings())
        return Prepared(dataset, series, scalings, tuple(new), times, covariates, short)

    def padded(self, ready: Prepared) -> list[tuple[str, int]]:
        """The series of a prepared file that are forecast padded (shorter than the lookback, as a
        model with `min_history` takes them), each with its count of values, in the file's order."""
        lookback = self.manifest.config.lookback
        return [(uid, len(v)) for uid, v in ready.series.items() if len(v) < lookback]

    def padded_note(self, ready: Prepared) -> str | None:
        """A note naming the series of a prepared file that are forecast padded, or None."""
        padded, cfg = self.padded(ready), self.manifest.config
        if not padded:
            return None
        return f"{ready.dataset.source}: {padded_text(len(padded), padded[0], cfg.lookback, cfg.season)}"

    def forecast(
        self, data_path: str | Path, reporter: Reporter | None = None, as_of: str | None = None,
        skip_short: bool = False,
    ) -> pd.DataFrame:
        """Forecast the next `horizon` values of every series in a CSV (see `predict`)."""
        return self.forecast_prepared(self.prepare(data_path, reporter, as_of, skip_short))

    def forecast_prepared(self, ready: Prepared) -> pd.DataFrame:
        """The forecast frame of a prepared file (`prepare`): no rows for a cluster part whose
        every series was left out as short."""
        config = self.manifest.config
        if ready.series:
            forecasts = forecast_series(self.network.predict, config, ready.series, ready.scalings,
                                        ready.covariates, self.manifest.ets_params())
        else:
            forecasts = np.empty((0, config.horizon) + ((len(config.quantiles),) if config.quantiles else ()))
        times = ready.times.reshape(-1, config.horizon)[:, :self.steps].reshape(-1)  # each series' first steps
        return with_keys(forecast_frame(list(ready.series), times, forecasts[:, :self.steps], config),
                         ready.dataset.keys)


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
            `lookback` values (`min_history` where the model pads shorter ones).
        reporter: receives notes.
        engine: `onnx` (ONNX Runtime, no TensorFlow), `keras`, or `auto` (ONNX when the model
            has a checked model.onnx).
        as_of: forecast from this time (rows after it are ignored).

    Returns:
        A frame with columns unique_id, ds, yhat: `horizon` rows per series.

    Example:
        >>> predict("model", "history.csv").columns.tolist()
        ['unique_id', 'ds', 'yhat']
    """
    return Predictor(model_dir, engine).forecast(data_path, reporter, as_of)
