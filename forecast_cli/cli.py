"""Typer commands only: parse flags, call the library, print, and map errors to exit codes."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import glob
import inspect
import json
import re
import signal
import sys
import typing
from pathlib import Path
from typing import Any, Callable, List, Optional

import typer
from typer.core import TyperGroup

from forecast_cli.errors import MEANINGS, ExitCode, ForecastError
from forecast_cli.output import number


class _Commands(TyperGroup):
    """The commands' group. With `--json`, a command line that Typer refuses before the command
    runs (a misspelt flag, a missing argument, a flag value of the wrong type) never reaches
    `handle_errors`; this prints its JSON failure on stdout too, so that a cron job's
    `> summary.json` is never left empty. The usage and `Error:` lines on stderr are Typer's."""

    json_summary = False

    def main(self, args: Any = None, *rest: Any, **extra: Any) -> Any:
        self.json_summary = "--json" in (sys.argv[1:] if args is None else list(args))
        return super().main(args, *rest, **extra)

    def make_context(self, *args: Any, **kwargs: Any) -> Any:  # the command's name refused
        try:
            return super().make_context(*args, **kwargs)
        except Exception as exc:
            self._refused(exc)
            raise

    def invoke(self, ctx: Any) -> Any:  # the command's flags and arguments refused
        try:
            return super().invoke(ctx)
        except Exception as exc:
            self._refused(exc)
            raise

    def _refused(self, exc: Exception) -> None:
        # Click's usage errors, by their shape: Typer ships its own copy of Click's exceptions.
        if getattr(exc, "exit_code", None) == ExitCode.USAGE and callable(getattr(exc, "format_message", None)):
            # An output named where an argument goes (`forecast train data.csv model`): name its flag.
            command = getattr(getattr(exc, "ctx", None), "command", None)
            outs = {"train": "--out DIR (the model directory)", "backtest": "--output-dir DIR"}
            out = outs.get(getattr(command, "name", None))
            if out and str(getattr(exc, "message", "")).startswith("Got unexpected extra argument"):
                exc.message += f". {command.name} reads one DATA file; name where it writes with {out}."
            _json_failure({"json_summary": self.json_summary}, exc.format_message(), int(ExitCode.USAGE))


app = typer.Typer(
    cls=_Commands,
    name="forecast",
    help="Train an LSTM on CSV time series and write forecasts.",
    # \b keeps Click from joining the lines into one paragraph
    epilog="Exit codes:\n\n\b\n" + "\n".join(f"{int(code):>4}  {meaning}" for code, meaning in MEANINGS.items()),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from forecast_cli import __version__

        sys.stdout.write(f"forecast {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    pass  # the options of `forecast` itself; its help is the app's


def _fail(message: str, code: int) -> None:
    from forecast_cli.output import error_line

    error_line(message)
    raise typer.Exit(code)


def _on_sigterm(signum, frame):  # a cron `timeout` or kill: stop like Ctrl-C, leaving outputs whole
    raise KeyboardInterrupt


def handle_errors(command: Callable) -> Callable:
    """Turn the tool's own errors into `Error: ...` on stderr and their exit code; a bug keeps
    its traceback (exit 1). With `--json`, whose stdout holds nothing but the summary, a run that
    fails as a whole prints `{"error": ..., "exit_code": ...}` there instead, so that a cron job's
    `> summary.json` is never left empty."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            _check_local_paths(kwargs)
            result = command(*args, **kwargs)
            sys.stdout.flush()  # here, where a reader that went away is answered, not at exit
            return result
        except BrokenPipeError as exc:  # stdout's reader went away (`forecast predict ... | head`); stderr's
            from forecast_cli.output import reader_gone, silence  # never raises (output.py)

            if not reader_gone(sys.stdout):  # a pipe of the tool's own (a worker process's): a bug, shown as one
                raise RuntimeError("a pipe between the tool's own processes broke") from exc
            silence(sys.stdout)  # nothing more to write there: no JSON failure, no flush at exit
            raise typer.Exit(int(ExitCode.CLOSED)) from None
        except ForecastError as exc:
            _json_failure(kwargs, str(exc), int(exc.exit_code))
            _fail(str(exc), int(exc.exit_code))
        except KeyboardInterrupt:
            from forecast_cli.output import note_line

            _json_failure(kwargs, "interrupted", int(ExitCode.INTERRUPTED))
            note_line("Interrupted; earlier outputs are unchanged.")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper


# A URL's scheme (s3://, gs://, https://: a Path keeps one of its slashes), not a Windows drive (C:/).
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/+")


def _check_local_paths(params: dict[str, Any]) -> None:
    """Refuse a URL given as a path (`--output-dir s3://bucket/out`): read as a path, it named a
    folder `s3:` here, and a forecast written into it left the bucket as it was with exit 0.

    Example:
        >>> _check_local_paths({"data": ["sales.csv"], "output_dir": Path("C:/out"), "dask": "tcp://host:8786"})
        >>> _check_local_paths({"output_dir": Path("s3://bucket/out")})
        Traceback (most recent call last):
        ...
        forecast_cli.errors.UsageError: s3://bucket/out is a URL, but forecast reads and writes paths of this ...
    """
    from forecast_cli.errors import UsageError

    for name, value in params.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            # Path parameters, and the two that take a path or - as text; not --dask's scheduler address.
            path = isinstance(v, Path) or (name in ("data", "output") and isinstance(v, str))
            if path and _URL.match(str(v)):
                url = _URL.sub(lambda m: m.group(0).rstrip("/") + "//", str(v), count=1)
                raise UsageError(
                    f"{url} is a URL, but forecast reads and writes paths of this machine's file system. Mount the "
                    "storage at a path (s3fs, gcsfuse, NFS) and give that path, or copy the files down and back "
                    "(aws s3 cp, gsutil cp)."
                )


def _json_failure(options: dict[str, Any], message: str, code: int) -> None:
    if options.get("json_summary"):
        try:
            sys.stdout.write(json.dumps({"error": message, "exit_code": code}, indent=2) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:  # stdout's reader went away: the failure's own exit code and stderr line stand
            from forecast_cli.output import silence

            silence(sys.stdout)


# Options shared by `train` and `backtest` (one definition: one name, one help text).
HORIZON = typer.Option(None, "--horizon", "-H", help="Steps to forecast [default: from the frequency, the M4 competition's horizons: 6 yearly, 8 quarterly, 18 monthly, 13 weekly, 14 daily, 48 hourly; a day of finer steps; 6 for years counted in a column named year; else required for integer steps].")
CONFIG_FILE = typer.Option(None, "--config", help="TOML file of training settings by flag name (horizon = 12, window-norm = \"last\", quantiles = [0.1, 0.9], ...); flags given on the command line win.")
LOOKBACK = typer.Option(None, "--lookback", help="Past steps the network reads [default: max(horizon up to 336, 2 x season; in data of 10,000 windows or more, 3 x season for seasons of 12 to 23 steps (three years of months) and a week for a season of 24 (hours)), at most the shortest series unless that is below the horizon (then the horizon, shorter series padded by their first season), and no more than the longest leaves after two horizons (else a season or the horizon, the shorter, as where two seasons leave fewer than 7 training windows)].")
TIME_COL = typer.Option(None, "--time-col", help="Time column [default: ds, date, timestamp, ... else the first column, or one of dates where that holds none].")
TARGET_COL = typer.Option(None, "--target-col", help="Value column [default: y, or the only other column].")
ID_COL = typer.Option(None, "--id-col", help="Series id column [default: unique_id if present]; several between commas (store,family) are joined into one id (1/BREAD).")
WIDE = typer.Option(False, "--wide", help="One column per series (date,north,south,...): every column of numbers beside the time is forecast as a series of its own, named after its column.")
DECIMAL_COMMA = typer.Option(False, "--decimal-comma", help="Numbers are written with a decimal comma and points between thousands (1.234,5), as spreadsheets save CSV in much of Europe; a model trained so reads later files so [default: found by itself where a cell such as 12,5 or 1 234 leaves no doubt].")
THOUSANDS_COMMA = typer.Option(False, "--thousands-comma", help="Numbers are written with commas between thousands (1,234.5), as spreadsheets in the US and UK save cells formatted so; a model trained so reads later files so [default: found by itself where a cell such as 1,234.5 leaves no doubt].")
ENCODING = typer.Option("utf-8", "--encoding", help="The CSV's text encoding: cp1252 for a CSV saved by Excel on Windows in Western Europe and the Americas (cp1250 Central Europe), latin-1, utf-16, ... [default: UTF-8, with or without a byte order mark]; a model trained so reads later files so.")
FREQ = typer.Option(None, "--freq", help="Pandas frequency (h, D, W-SUN, MS, QS, ...; W: weekly on each series' own weekday) [default: inferred].")
SEASON = typer.Option(None, "--season", help="Season length in steps, or several separated by commas (e.g. 24,168: the network takes the shortest; ETS and seasonal naive the one that validates best among those every series holds twice over plus a horizon) [default: from the frequency, a day and a week for hourly and finer dates; 1 for integer steps].")
AS_OF = typer.Option(None, "--as-of", help="Use the data up to this time only: rows after it are left out, as predict --as-of leaves them (a date, as the file writes them or ISO, or an integer step) [default: every row].")
AGGREGATE = typer.Option(None, "--aggregate", help="Make each series' rows per period of --freq one value first: sum (events at any time, such as transactions: a period without one is 0) or mean (readings at odd times); a model trained so reads later files so [default: the rows are the periods].")
FILL = typer.Option("interpolate", "--fill", help="Missing values and timestamps: interpolate, ffill, zero or none (refuse).")
EPOCHS = typer.Option(60, "--epochs", help="Most epochs to train (early stopping usually ends sooner).")
BATCH_SIZE = typer.Option(None, "--batch-size", help="Windows per gradient step [default: about 16 steps an epoch, 16 to 256].")
UNITS = typer.Option(64, "--units", help="LSTM units per layer.")
LAYERS = typer.Option(1, "--layers", help="Stacked LSTM layers.")
DROPOUT = typer.Option(0.0, "--dropout", help="Dropout after each LSTM layer.")
LEARNING_RATE = typer.Option(3e-3, "--learning-rate", help="Adam learning rate.")
PATIENCE = typer.Option(4, "--patience", help="Epochs without validation improvement before stopping.")
SEED = typer.Option(42, "--seed", help="Seed for every random choice (recorded in the model).")
VAL_WINDOWS = typer.Option(None, "--val-windows", help="Validation windows per series, blocks of horizon steps from its end [default: 1; with fewer than 64 series, the longest of 1,000 values or more: up to 64 in all, at most a quarter of the longest series].")
MAX_WINDOWS = typer.Option(None, "--max-windows", help="Most recent training windows used per series [default: every window when the data offers at most 100,000 in all; else as many as make about 5 million window steps (windows x lookback) in all, from 20,000 to 100,000 windows and at least 100 a series; beyond 2,000 series, about 200,000 in all].")
LOSS = typer.Option("auto", "--loss", help="Training loss: mae, mse, huber, or ape (relative error on a log scale: half percentage, half log error; needs --transform log and --scaling mean); auto: ape where it applies, else mae.")
WINDOW_NORM = typer.Option("season", "--window-norm", help="Level taken off each window: season (mean of the last season), last, snaive (outputs are corrections to seasonal naive), none.")
TRANSFORM = typer.Option("auto", "--transform", help="Model the values as they are (none) or on a log scale (log: sign(y) x log(1 + |y|), which is log(1 + y) for values of 0 or more and still defined if later data go below zero; a series whose typical value is below 1 is first counted in a power of ten that puts it in the thousands); auto: log when no training value is negative.")
REFIT = typer.Option(True, "--refit/--no-refit", help="After early stopping, train again on all the data (validation part included) for the best number of epochs.")
REFIT_START = typer.Option("validated", "--refit-start", help="What the refit trains: validated (the validated network, on for a quarter of the best number of epochs, at least one) or new (a new network, for the best number of epochs).")
REFIT_AVERAGE = typer.Option(0.9, "--refit-average", help="The refit ends on a moving average of its weights with this momentum, updated after every batch (0.9: about the last ten), rather than on the last batch's weights; 0: the last batch's.")
SCALING = typer.Option("auto", "--scaling", help="Per-series scaling from the training part: std (subtract the mean, divide by the standard deviation) or mean (subtract the mean only); auto: mean on a log scale, else std.")
ENSEMBLE = typer.Option(1, "--ensemble", help="Networks trained with seeds seed, seed+1, ... and averaged.")
QUANTILES = typer.Option(None, "--quantiles", help="Quantile forecasts, e.g. 0.1,0.5,0.9: trained with the pinball loss; predict writes a column per level (q0.1, ...) and yhat is the median (0.5 is always added).")
PAST_COVARIATES = typer.Option("auto", "--past-covariates", help="Columns read as past covariates (their values up to each forecast's start): a comma-separated list, none, or auto: every other column of numbers.")
FUTURE_COVARIATES = typer.Option(None, "--future-covariates", help="Columns known ahead (prices, holidays, ...), comma-separated: predict's input must give them for the horizon's steps, as rows after each series' last value with an empty target.")
CALENDAR = typer.Option(False, "--calendar", help="Add the position in the day, week or year (as the frequency allows) as future covariates computed from the timestamps; predict needs nothing more.")
PATCH = typer.Option(None, "--patch", help="Window steps the LSTM reads at each of its steps (1: one by one) [default: 8 for windows of 48 steps or more, 4 for 24 to 47, else 1].")
LR_SCHEDULE = typer.Option("none", "--lr-schedule", help="Learning rate: none (constant) or plateau (halved when the validation loss stalls for half the patience).")
LOCK_TIMEOUT = typer.Option(60.0, "--lock-timeout", help="Seconds to wait for another run writing the same output, then exit 6 (0: do not wait).")
BLEND = typer.Option("auto", "--blend", help="The LSTM's weight in the forecast, the rest going to the --baseline forecast: a number from 0 to 1 (1: the LSTM alone), or auto: weights in proportion to 1 / MASE^3 of the LSTM alone and the baseline alone on the validation windows (equal scores: 0.5; 1 with --future-covariates, values known ahead that the baseline cannot see; --calendar is weighed as without it).")
BASELINE = typer.Option("ets+theta", "--baseline", help="The statistical forecast blended with the LSTM (--blend): ets+theta (the mean of ETS and the Theta method, each fitted per series), ets (damped-trend exponential smoothing with the season, fitted per series; on a log scale with --transform log) or snaive (seasonal naive: the last season repeated).")
QUIET = typer.Option(False, "--quiet", "-q", help="Only warnings and errors on stderr (for cron).")
PLOT = typer.Option(None, "--plot", help="Write a PNG (SVG or PDF for a name ending .svg or .pdf) of the recent history, the forecast and any actuals, one panel per series.")
PLOT_SERIES = typer.Option(4, "--plot-series", help="Series drawn in --plot (the first N).")


def _with_settings_file(params: dict, context: typer.Context | None) -> dict:
    """`params` with the --config file's settings for every training option the command line
    left at its default (a flag given on the command line wins)."""
    from forecast_cli.config import read_settings

    path = params.get("config_file")
    if path is None or context is None:
        return params
    hints = typing.get_type_hints(_training_options)
    # The cut-off is this run's data, not a setting of the model: not from the file.
    options = {"horizon": Optional[int],
               **{k: v for k, v in hints.items() if k not in ("config_file", "quiet", "as_of", "return")}}
    settings = read_settings(path, options)
    given = {name for name in params if getattr(context.get_parameter_source(name), "name", None) == "COMMANDLINE"}
    return {**params, **{name: value for name, value in settings.items() if name not in given}}


def _config(params: dict):
    """The training config from a command's parameters (merged with its --config file by
    `_with_settings_file`): each TrainConfig field by its own name."""
    from forecast_cli.config import (TrainConfig, check_network_size, parse_blend, parse_columns, parse_encoding,
                                     parse_quantiles, parse_season)

    names = {field.name for field in dataclasses.fields(TrainConfig)}
    values = {name: value for name, value in params.items() if name in names}
    values["quantiles"] = parse_quantiles(values.get("quantiles"))
    values["past_covariates"] = parse_columns(values.get("past_covariates"), auto=True)
    values["future_covariates"] = parse_columns(values.get("future_covariates"))
    values["blend"] = parse_blend(values.get("blend"))
    values["encoding"] = parse_encoding(values.get("encoding", "utf-8"))
    values["season"], values["seasons"] = parse_season(values.get("season"))
    config = TrainConfig(**values)
    check_network_size(config)
    return config


def _training_options(
    lookback: Optional[int] = LOOKBACK,
    time_col: Optional[str] = TIME_COL,
    target_col: Optional[str] = TARGET_COL,
    id_col: Optional[str] = ID_COL,
    wide: bool = WIDE,
    freq: Optional[str] = FREQ,
    aggregate: Optional[str] = AGGREGATE,
    as_of: Optional[str] = AS_OF,
    season: Optional[str] = SEASON,
    fill: str = FILL,
    decimal_comma: bool = DECIMAL_COMMA,
    thousands_comma: bool = THOUSANDS_COMMA,
    encoding: str = ENCODING,
    epochs: int = EPOCHS,
    batch_size: Optional[int] = BATCH_SIZE,
    units: int = UNITS,
    layers: int = LAYERS,
    dropout: float = DROPOUT,
    learning_rate: float = LEARNING_RATE,
    patience: int = PATIENCE,
    seed: int = SEED,
    val_windows: Optional[int] = VAL_WINDOWS,
    max_windows: Optional[int] = MAX_WINDOWS,
    loss: str = LOSS,
    window_norm: str = WINDOW_NORM,
    transform: str = TRANSFORM,
    refit: bool = REFIT,
    refit_start: str = REFIT_START,
    refit_average: float = REFIT_AVERAGE,
    scaling: str = SCALING,
    ensemble: int = ENSEMBLE,
    quantiles: Optional[str] = QUANTILES,
    past_covariates: str = PAST_COVARIATES,
    future_covariates: Optional[str] = FUTURE_COVARIATES,
    calendar: bool = CALENDAR,
    lr_schedule: str = LR_SCHEDULE,
    patch: Optional[int] = PATCH,
    blend: str = BLEND,
    baseline: str = BASELINE,
    quiet: bool = QUIET,
    config_file: Optional[Path] = CONFIG_FILE,
) -> None:
    """The options of `train` and `backtest` beyond their own: declared once, here, and added to
    both commands' signatures by `with_training_options`."""


def with_training_options(command: Callable) -> Callable:
    """Give a command that takes `**options` the parameters of `_training_options` as well.

    Typer builds a command's flags from its signature (and type hints), so the wrapper shows the
    command's own parameters followed by the shared ones; the command receives the shared ones
    in `options`.
    """
    own = inspect.signature(command, eval_str=True)
    shared = inspect.signature(_training_options, eval_str=True)
    parameters = [p for p in own.parameters.values() if p.kind is not p.VAR_KEYWORD]

    @functools.wraps(command)
    def wrapper(**kwargs):
        return command(**kwargs)

    wrapper.__signature__ = own.replace(parameters=[*parameters, *shared.parameters.values()])
    wrapper.__annotations__ = {**typing.get_type_hints(_training_options), **typing.get_type_hints(command)}
    return wrapper


def _columns(options: dict):
    from forecast_cli.pipeline import ColumnOptions

    return ColumnOptions(options["time_col"], options["target_col"], options["id_col"], options["freq"], options["wide"],
                         options["as_of"])


@app.command()
@handle_errors
@with_training_options
def train(
    ctx: typer.Context,
    data: Path = typer.Argument(..., help="CSV (plain, or compressed: .gz, .bz2, .xz, a zip of one file), or Parquet (a .parquet file, a folder of .parquet parts, or a quoted glob of parts), or - for a CSV on standard input: one series (time, value), many in long format (unique_id, ds, y), or with --wide one column per series."),
    horizon: Optional[int] = HORIZON,
    out: Path = typer.Option(Path("model"), "--out", "-o", help="Model directory to write (replaced whole on success)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Spread the per-series work over a Dask cluster of N worker processes on this machine: with Parquet parts, reading, checking, windowing and the statistical (ETS) fits, so that this process holds the windows, not the data; else the ETS fits. The network trains here. The same model as without it (which fits ETS over this machine's cores from 1,000 series)."),
    dask: Optional[str] = typer.Option(None, "--dask", help="As --workers, on an existing Dask cluster: its scheduler's address (tcp://host:8786). Paths must be the same on every worker."),
    json_summary: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout (the model directory, series, training windows, epochs, seconds, and the validation scores and blend choice of metrics.json), for a job that retrains unattended."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write a PNG (SVG or PDF for a name ending .svg or .pdf) of the validation: each series' last values held out, the forecast chosen on them and seasonal naive's, one panel per series."),
    plot_series: int = typer.Option(4, "--plot-series", help="Series drawn in --plot: with more series than N, the N whose validation forecast scored worst."),
    **options,
) -> None:
    """Train one global LSTM on every series in DATA and write a model directory.

    Example: forecast train sample_data/airpassengers.csv --horizon 12 --out model
    """
    from forecast_cli.output import ConsoleReporter
    from forecast_cli.pipeline import train as run_train

    options = _with_settings_file({**options, "horizon": horizon}, ctx)
    config = _config(options)
    _check_cluster_flags(workers, dask)
    _check_output_flags(plot_series)
    draw = None
    if plot is not None:
        from forecast_cli.atomic import check_writable
        from forecast_cli.batch import check_outputs
        from forecast_cli.cluster import data_parts
        from forecast_cli.errors import UsageError

        if (workers is not None or dask is not None) and len(data_parts(data)) > 1:
            raise UsageError(f"--plot draws the validation from the data read in this process, and with "
                             f"--workers/--dask the workers read the Parquet parts of {data}; drop --workers/--dask "
                             "to plot (a CSV or a single Parquet file is read here, and plotted with them).")
        check_outputs({"--plot": [plot]}, [data], out)
        check_writable(plot)
        draw = functools.partial(_plot_validation, path=plot, n=plot_series)
    reporter = ConsoleReporter(quiet=options["quiet"])
    try:
        with contextlib.ExitStack() as stack:
            mapper, client = _fit_mapper(stack, workers, dask, reporter)
            result = run_train(data, config, out, _columns(options), reporter, mapper, client, draw)
    finally:
        reporter.close()
    if not options["quiet"]:
        _print_summary(reporter.console, result)
    if json_summary:
        sys.stdout.write(json.dumps({"model": str(result.out), "data": str(data), "as_of": options["as_of"],
                                     "series": result.n_series,
                                     "training_windows": result.train_windows, "epochs": result.epochs_run,
                                     "best_epoch": result.best_epoch, "seconds": round(result.seconds, 1),
                                     "metrics": result.metrics}, indent=2) + "\n")


def _plot_validation(view, dataset, path: Path, n: int) -> None:
    """Each series' last validation window, as the summary scores it: the values before it, the
    held-out values, the forecast chosen on them (the validated network blended with its partner
    as chosen) and seasonal naive's; the `n` series whose forecast scored worst where there are more."""
    import numpy as np
    import pandas as pd

    from forecast_cli.backtest import plotted_series
    from forecast_cli.plots import Panel, left_out, save_panels

    ids = np.array(view.ids, dtype=object)
    horizon = view.actual.shape[1]
    latest = pd.Series(np.arange(len(ids))).groupby(ids, sort=True).last()  # windows run in time order
    windows = latest.to_numpy()
    rows = pd.DataFrame({"unique_id": np.repeat(latest.index.to_numpy(), horizon),
                         "y": view.actual[windows].reshape(-1), "lstm": view.shipped[windows].reshape(-1),
                         "scale": np.repeat(view.scales[windows], horizon)})
    data = dataset.as_read()  # a value filled in for training is drawn as the gap it was
    keep = 3 * max(horizon, dataset.season)
    panels = []
    for uid in plotted_series(rows, n):
        k = latest[uid]
        hist = data[data["unique_id"] == uid]
        x, y = hist["ds"].to_numpy(), hist["y"].to_numpy()
        cut = len(x) - horizon  # the window is the series' last values
        # the held-out values and the forecasts go on from the last value before them, as one series
        start = cut - 1 if np.isfinite(y[cut - 1]) else cut

        def on(values):
            return np.concatenate([y[start:cut], values])

        panels.append(Panel(str(uid), history=(x[max(0, cut - keep):cut], y[max(0, cut - keep):cut]),
                            actual=(x[start:], y[start:]),
                            forecasts=[(x[start:], on(view.shipped[k]), "forecast"),
                                       (x[start:], on(view.snaive[k]), "seasonal naive")]))
    save_panels(panels, path, f"Validation: the last {horizon} values of each series held out, and their forecasts"
                + left_out(len(panels), len(latest), "those forecast worst"))


def _fit_mapper(stack: contextlib.ExitStack, workers: int | None, dask: str | None, reporter) -> tuple[Any, Any]:
    """What spreads the per-series statistical fits of training, and the Dask client if any: a
    cluster with --workers/--dask, else this machine's cores (from 1,000 series). Both are
    closed with `stack`."""
    if workers is not None or dask is not None:
        from forecast_cli import cluster

        client = stack.enter_context(cluster.open_client(workers, dask))
        return cluster.spread(client), client
    from forecast_cli.pool import local_mapper

    return stack.enter_context(local_mapper(reporter=reporter)), None


@app.command()
@handle_errors
@with_training_options
def backtest(
    ctx: typer.Context,
    data: Path = typer.Argument(..., help="CSV or Parquet, as for `forecast train`."),
    horizon: Optional[int] = HORIZON,
    folds: int = typer.Option(3, "--folds", help="Number of rolling cut-offs."),
    step: Optional[int] = typer.Option(None, "--step", help="Steps between cut-offs [default: the horizon]."),
    output_dir: Path = typer.Option(Path("backtest"), "--output-dir", help="Folder for forecasts.csv, folds.csv, steps.csv and backtest.json."),
    plot: Optional[Path] = PLOT,
    plot_series: int = typer.Option(4, "--plot-series", help="Series drawn in --plot: with more series than N, the N whose forecast scored worst over the folds."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Fit each fold's per-series statistical forecasts (ETS+Theta, the most of a backtest's time on many series) on a Dask cluster of N worker processes on this machine; the data is read and the network trained here. The same scores as without it (which fits over this machine's cores from 1,000 series)."),
    dask: Optional[str] = typer.Option(None, "--dask", help="As --workers, on an existing Dask cluster: its scheduler's address (tcp://host:8786)."),
    json_summary: bool = typer.Option(False, "--json", help="Print backtest.json's scores on stdout too (with the data, the output folder and the files written), for a job that compares settings unattended."),
    **options,
) -> None:
    """Rolling-origin evaluation: train before each cut-off, forecast, score against the actuals.

    Naive and seasonal naive are scored on the same folds. Scores per fold and per horizon step
    go to --output-dir as CSV and JSON; a table of the LSTM against the baselines is printed.
    Each fold trains as `forecast train` does, its per-series fits spread over this machine's
    cores, or with --workers/--dask over a Dask cluster.

    Example: forecast backtest sample_data/airpassengers.csv --horizon 12 --folds 3
    """
    from forecast_cli.atomic import check_writable
    from forecast_cli.backtest import run, summary, write_backtest
    from forecast_cli.baselines import LABELS
    from forecast_cli.batch import check_outputs
    from forecast_cli.output import ConsoleReporter

    _check_output_flags(plot_series)
    options = _with_settings_file({**options, "horizon": horizon}, ctx)
    config = _config(options)
    check_outputs({"--output-dir": [output_dir / name for name in ("forecasts.csv", "folds.csv", "steps.csv",
                                                                   "backtest.json")], "--plot": [plot]}, [data])
    check_writable(output_dir / "backtest.json" if output_dir.is_dir() else output_dir)
    if plot is not None:
        check_writable(plot)
    _check_cluster_flags(workers, dask)
    quiet = options["quiet"]
    reporter = ConsoleReporter(quiet=quiet)
    try:
        with contextlib.ExitStack() as stack:
            mapper, _ = _fit_mapper(stack, workers, dask, reporter)
            result = run(data, config, _columns(options), folds, step, reporter, mapper)
    finally:
        reporter.close()
    written = write_backtest(result, output_dir)
    if plot is not None:
        _plot_backtest(result, plot, plot_series)
    if json_summary:
        sys.stdout.write(json.dumps({"data": str(data), "as_of": options["as_of"], "output_dir": str(output_dir),
                                     "files": [str(p) for p in written], **summary(result)}, indent=2) + "\n")
    weights = ", ".join(f"{w:g}" for w in result.blend_weights)
    overall = {**result.overall, "baseline": result.config.baseline}  # the weights vary by fold
    if all(w >= 1.0 for w in result.blend_weights):
        overall["blend_weight"] = 1.0  # the LSTM alone in every fold
    _print_scores(reporter.console, f"Backtest: {folds} fold(s) of {result.config.horizon} steps", overall,
                  extra=f"LSTM's weight beside {LABELS[result.config.baseline]} (--blend), fold by fold: {weights}\n"
                        f"Wrote {', '.join(str(p) for p in written)}", quiet=quiet)


def _check_argument_order(command: str, model_dir: Path, data: list[str]) -> None:
    """The data given first and the model directory after it (`train` takes the data first):
    say to swap them, rather than that the data file is no model directory."""
    from forecast_cli.data import MANIFEST
    from forecast_cli.errors import UsageError

    model = next((d for d in data if (Path(d) / MANIFEST).is_file()), None)
    if model is not None and not (model_dir / MANIFEST).is_file():
        raise UsageError(f"{model} is a model directory and {model_dir} is not: the model directory comes first. "
                         f"Run forecast {command} {model} {model_dir} ...")


def _print_scores(console, title: str, scores: dict, extra: str = "", quiet: bool = False) -> None:
    """A table of the LSTM against the baselines, and a clear warning when it loses."""
    from rich.table import Table

    from forecast_cli.baselines import FITS, LABELS

    lstm, base = scores["lstm"], scores["seasonal_naive"]
    key = "mase" if lstm.get("mase") is not None and base.get("mase") else "mae"
    weight = scores.get("blend_weight", 1.0)
    name = LABELS[scores.get("baseline", "snaive")]
    if "blend_weight" not in scores and "baseline" in scores:
        label, shipped = f"LSTM and {name} (weights below)", f"the forecast (LSTM and {name})"
    elif weight >= 1:
        label, shipped = "LSTM", "the LSTM"
    elif weight <= 0:
        label, shipped = f"{name} alone (LSTM weight 0)", f"the forecast ({name} alone)"
    else:
        label = f"LSTM {weight:g} + {name} {1 - weight:g}"
        shipped = f"the forecast ({label})"
    if not quiet:
        table = Table(title=title)
        table.add_column("model")
        for name in ("MAE", "RMSE", "sMAPE %", "MASE"):
            table.add_column(name, justify="right")
        partners = [(LABELS[method], method) for method in FITS]  # the fitted partner scored, if any
        # Where naive and seasonal naive are the same forecast (a season of 1, as for yearly data):
        # one row rather than two alike.
        same = scores.get("naive") is not None and scores["naive"] == scores.get("seasonal_naive")
        naives = [("naive (= seasonal naive)", "naive")] if same else [("seasonal naive", "seasonal_naive"),
                                                                          ("naive", "naive")]
        rows = [(label, "lstm"), ("LSTM alone", "lstm_alone"), *partners, *naives]
        for label, name in rows:
            if name in scores:
                table.add_row(label, *(number(scores[name].get(k)) for k in ("mae", "rmse", "smape", "mase")))
        console.print(table)
        _print_interval(console, lstm)
        if extra:
            console.print(extra, markup=False)
    if lstm[key] is not None and base[key] is not None and lstm[key] > base[key] + 1e-9 * max(1.0, base[key]):
        # `train --blend auto` keeps a choice that scores worse by less than the validation's noise
        # (`blend.guard`): a warning, but not the advice to drop a forecast that chance may explain.
        noise = (scores.get("choice") or {}).get("noise") or 0.0
        if key == "mase" and lstm[key] <= base[key] + noise:
            console.print(
                f"Warning: {shipped} scores worse than seasonal naive on validation (MASE {lstm[key]:.4g} against "
                f"{base[key]:.4g}), by less than the noise of which windows were drawn (two standard errors "
                f"{noise:.2g}), so it was kept; --baseline snaive --blend 0 ships seasonal naive alone.",
                markup=False, style="yellow")
        else:
            console.print(
                f"Warning: {shipped} loses to seasonal naive ({key.upper()} {lstm[key]:.4g} against {base[key]:.4g}); "
                "prefer the baseline for this data, or try other settings.", markup=False, style="yellow")


def _print_interval(console, scores: dict) -> None:
    """The quantile interval's coverage and pinball loss, when the scores have them (the loss
    alone for a single level, which makes no interval)."""
    if scores.get("coverage") is not None:
        console.print(f"Quantile interval: {scores['coverage']:.1%} of actuals inside (nominal "
                      f"{scores['nominal']:.0%}); pinball loss {number(scores['pinball'])}", markup=False)
    elif scores.get("pinball") is not None:
        console.print(f"Quantile forecast: pinball loss {number(scores['pinball'])}", markup=False)


def _plot_backtest(result, path: Path, n: int) -> None:
    import numpy as np

    from forecast_cli.backtest import plotted_series
    from forecast_cli.plots import Panel, left_out, save_panels

    panels = []
    for uid in plotted_series(result.rows, n):
        rows = result.rows[result.rows["unique_id"] == uid]
        first = int(np.flatnonzero(result.times[uid] == rows["ds"].iloc[0])[0])
        start = max(0, first - 3 * result.config.horizon)
        panel = Panel(str(uid), history=(result.times[uid][start:first + 1], result.history[uid][start:first + 1]),
                      actual=(result.times[uid][first:], result.history[uid][first:]))
        times, values = result.times[uid], result.history[uid]
        for fold, group in rows.groupby("fold"):
            # each fold's line starts at the last value before its cut-off, as predict's plot joins its own
            cut = int(np.flatnonzero(times == group["ds"].iloc[0])[0])
            before = slice(max(0, cut - 1), cut)
            panel.forecasts.append((np.concatenate([times[before], group["ds"].to_numpy()]),
                                    np.concatenate([values[before], group["lstm"].to_numpy()]),
                                    "forecast, fold by fold"))
        panels.append(panel)
    save_panels(panels, path, "Backtest: the forecasts from each cut-off against the actuals"
                + left_out(len(panels), result.rows["unique_id"].nunique(), "those forecast worst"))


@app.command()
@handle_errors
def evaluate(
    forecasts: Path = typer.Argument(..., help="Forecast file (CSV or Parquet) written by `forecast predict` (unique_id, ds, yhat)."),
    actuals: Path = typer.Argument(..., help="CSV or Parquet of the actual values, in the training data's shape."),
    history: Optional[Path] = typer.Option(None, "--history", help="The training data, to compute MASE."),
    time_col: Optional[str] = typer.Option(None, "--time-col", help="Time column of the actuals (and --history), as given to train [default: ds, date, timestamp, ... else the first column, or one of dates where that holds none]."),
    target_col: Optional[str] = typer.Option(None, "--target-col", help="Value column of the actuals (and --history), as given to train [default: y, or the only other column]."),
    id_col: Optional[str] = typer.Option(None, "--id-col", help="Series id column(s) of the actuals (and --history), as given to train [default: unique_id if present]."),
    wide: bool = typer.Option(False, "--wide", help="The actuals (and --history) have one column per series, as the model was trained with --wide."),
    freq: Optional[str] = typer.Option(None, "--freq", help="Pandas frequency of the --history (h, D, W-SUN, MS, ...), as given to train [default: inferred]."),
    aggregate: Optional[str] = typer.Option(None, "--aggregate", help="As given to train: the actuals' (and --history's) rows per period of --freq summed (sum) or averaged (mean) first."),
    decimal_comma: bool = typer.Option(False, "--decimal-comma", help="The actuals (and --history) write numbers with a decimal comma (1.234,5)."),
    thousands_comma: bool = typer.Option(False, "--thousands-comma", help="The actuals (and --history) write numbers with commas between thousands (1,234.5)."),
    encoding: str = typer.Option("utf-8", "--encoding", help="The actuals' (and --history's) text encoding, as given to train (cp1252, latin-1, ...)."),
    json_summary: bool = typer.Option(False, "--json", help="Print the scores as JSON on stdout."),
    plot: Optional[Path] = PLOT,
    plot_series: int = typer.Option(4, "--plot-series", help="Series drawn in --plot: with more series than N, the N worst (as the table lists them)."),
    quiet: bool = QUIET,
) -> None:
    """Score a forecast file once the actual values have arrived (matched on series and time).

    Example: forecast evaluate forecast.csv actuals.csv --history sample_data/airpassengers.csv
    """
    from rich.table import Table

    from forecast_cli.output import err_console
    from forecast_cli.scoring import EVALUATE_SHOWN, worst_series
    from forecast_cli.scoring import evaluate as run_evaluate

    _check_output_flags(plot_series)
    if [str(p) for p in (forecasts, actuals, history)].count("-") > 1:
        from forecast_cli.errors import UsageError

        raise UsageError("- (standard input) can be one of the files, not several: pass the others by path.")
    if plot is not None:
        from forecast_cli.atomic import check_writable
        from forecast_cli.batch import check_outputs

        check_outputs({"--plot": [plot]}, [p for p in (forecasts, actuals, history) if p is not None])
        check_writable(plot)
    from forecast_cli.config import parse_encoding
    from forecast_cli.data import Written

    result = run_evaluate(forecasts, actuals, history, time_col=time_col, target_col=target_col, id_col=id_col,
                          wide=wide, written=Written(decimal_comma, thousands_comma, parse_encoding(encoding)),
                          freq=freq, aggregate=aggregate)
    console = err_console()
    # Actual rows before or after a series' forecasts (its history, values past the horizon) are
    # what an actuals file of the whole data holds: not worth a note every night.
    without = result.series_without_forecast
    notes = []
    if result.unmatched_forecasts:
        notes.append(f"{result.unmatched_forecasts} forecast row(s) have no actual yet"
                     + (f" (e.g. {', '.join(result.examples)})" if result.examples else ""))
    if without:
        notes.append(f"{len(without)} series of the actuals have no forecast (e.g. {without[0]!r})")
    if result.actuals_within_forecasts:
        notes.append(f"{result.actuals_within_forecasts} actual row(s) between a series' first and last forecast "
                     "have no forecast")
    unscaled = result.by_series.loc[result.by_series["mase"].isna(), "unique_id"] if result.scale_from else []
    if len(unscaled):  # MASE divides by the history's seasonal-naive error: none for a constant history
        notes.append(f"MASE leaves out {len(unscaled)} series whose history gives no scale to divide the errors by "
                     f"(a constant history, or none; e.g. {str(unscaled.iloc[0])!r})")
    if notes:
        console.print("Note: " + "; ".join(notes) + ".", markup=False)
    if not quiet:
        shown, caption = worst_series(result.by_series, EVALUATE_SHOWN)
        table = Table(title=f"{len(result.matched)} forecasts matched with actuals", caption=caption)
        for name in ("scope", "rows", "MAE", "RMSE", "sMAPE %", "MASE"):
            table.add_column(name, justify="right" if name != "scope" else "left")
        table.add_row("all", str(len(result.matched)), *(number(result.overall.get(k)) for k in ("mae", "rmse", "smape", "mase")))
        for row in shown.to_dict("records"):
            table.add_row(str(row["unique_id"]), str(row["rows"]), *(number(row.get(k)) for k in ("mae", "rmse", "smape", "mase")))
        console.print(table)
        _print_interval(console, result.overall)
    if plot is not None:
        from forecast_cli.plots import Panel, left_out, save_panels

        panels = []
        for uid in worst_series(result.by_series, plot_series)[0]["unique_id"]:  # the worst, as in the table
            rows = result.matched[result.matched["unique_id"] == uid]
            panels.append(Panel(str(uid), actual=(rows["ds"].to_numpy(), rows["y"].to_numpy()),
                                forecasts=[(rows["ds"].to_numpy(), rows["yhat"].to_numpy(), "forecast")]))
        save_panels(panels, plot, "Forecasts against the actuals"
                    + left_out(len(panels), len(result.by_series), "those forecast worst"))
    if json_summary:
        summary = {"matched": len(result.matched), "unmatched_forecasts": result.unmatched_forecasts,
                   "unmatched_actuals": result.unmatched_actuals,
                   "actuals_outside_forecasts": result.actuals_outside_forecasts,
                   "actuals_within_forecasts": result.actuals_within_forecasts,
                   "series_without_forecast": len(result.series_without_forecast), "mase_scale_from": result.scale_from,
                   "overall": result.overall,
                   "by_series": json.loads(result.by_series.to_json(orient="records"))}
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")


@app.command()
@handle_errors
def doctor(
    data: Path = typer.Argument(..., help="CSV or Parquet to check, as `forecast train` would read it."),
    horizon: Optional[int] = typer.Option(None, "--horizon", "-H", help="Check that this horizon is supported."),
    time_col: Optional[str] = TIME_COL,
    target_col: Optional[str] = TARGET_COL,
    id_col: Optional[str] = ID_COL,
    wide: bool = WIDE,
    decimal_comma: bool = DECIMAL_COMMA,
    thousands_comma: bool = THOUSANDS_COMMA,
    encoding: str = ENCODING,
    freq: Optional[str] = FREQ,
    aggregate: Optional[str] = AGGREGATE,
    as_of: Optional[str] = AS_OF,
    season: Optional[str] = SEASON,
    lookback: Optional[int] = LOOKBACK,
    json_summary: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout too (data, ok, exit_code, findings: level and text), for a pipeline that checks files before training."),
) -> None:
    """Say what was detected in DATA, what is wrong or risky, and the largest lookback and horizon
    it supports. Exits non-zero (with the reason) when `train` would fail on it; --horizon,
    --season and --lookback are checked as train would use them.

    Example: forecast doctor sample_data/co2_weekly_maunaloa.csv --horizon 52
    """
    from forecast_cli.config import TrainConfig, parse_encoding, parse_season
    from forecast_cli.data import Written
    from forecast_cli.doctor import diagnose
    from forecast_cli.output import err_console

    one, several = parse_season(season)
    TrainConfig(horizon=horizon, season=one, seasons=several, lookback=lookback)  # a bad value is refused as train refuses it
    report = diagnose(data, time_col, target_col, id_col, freq, horizon, wide,
                      Written(decimal_comma, thousands_comma, parse_encoding(encoding)), one, several, lookback,
                      aggregate, as_of)
    console = err_console()
    marks = {"ok": "ok     ", "note": "note   ", "warning": "warning", "error": "error  "}
    for finding in report.findings:
        console.print(f"{marks[finding.level]}  {finding.text}", markup=False,
                      style={"warning": "yellow", "error": "red"}.get(finding.level))
    code = 0 if report.failure is None else int(report.failure.exit_code)
    if json_summary:
        sys.stdout.write(json.dumps({"data": str(data), "ok": report.ok, "exit_code": code,
                                     "findings": [{"level": f.level, "text": f.text} for f in report.findings]},
                                    indent=2) + "\n")
    if code:  # the failure is already shown among the findings
        raise typer.Exit(code)


@app.command("inspect")
@handle_errors
def inspect_model(
    model_dir: Path = typer.Argument(..., help="Model directory written by `forecast train`."),
    json_summary: bool = typer.Option(False, "--json", help="Print the description as JSON on stdout."),
) -> None:
    """Say what a model directory is: the data it was trained on, when, with which versions and
    settings, its validation scores and the blend chosen. Loads no network (fast, TensorFlow-free).

    Example: forecast inspect model --json
    """
    from forecast_cli.inspection import describe, lines
    from forecast_cli.output import err_console

    summary = describe(model_dir)
    if json_summary:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    console = err_console()
    for line in lines(summary):
        console.print(line, markup=False)


def _print_summary(console, result) -> None:
    from forecast_cli.output import counted

    m = result.metrics
    skill = m.get("skill_vs_seasonal_naive")
    verdict = f"; skill vs seasonal naive {skill:+.1%}" if skill is not None else ""
    refit = " then refit on all the data" if m.get("refit_epochs") else ""
    choice = m.get("choice")
    chosen = f"Forecast: {choice['shipped']} ({choice['reason']}).\n" if choice else ""
    longer = m.get("longer_season")
    if longer:
        chosen = (f"The values also repeat every {longer['season']} steps (autocorrelation "
                  f"{longer['autocorrelation']:.2f} of the seasonal differences): a candidate season for the "
                  f"statistical partner, which took {m['partner_season']}.\n") + chosen
    _print_scores(
        console, f"Validation on the last {result.config.horizon} steps of each series ({counted(m['windows'], 'window')})", m,
        extra=f"{chosen}{result.n_series} series, {counted(result.train_windows, 'training window')}, "
              f"{counted(result.epochs_run, 'epoch')} "
              f"(best {result.best_epoch}){refit}, {result.seconds:.0f}s{verdict}.\nModel written to {result.out}/",
    )


@app.command()
@handle_errors
def predict(
    model_dir: Path = typer.Argument(..., help="Model directory written by `forecast train`."),
    data: List[str] = typer.Argument(..., help="CSV (plain or compressed) or Parquet file(s), folders of Parquet parts, or quoted glob patterns ('incoming/*.csv': each match forecast on its own), or - for a CSV on standard input; with the training columns."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Forecast file for a single input (replaced whole): Parquet if it ends in .parquet, else CSV (compressed if it ends in .gz, .bz2 or .xz); or - for stdout (CSV) [default: -]."),
    steps: Optional[int] = typer.Option(None, "--horizon", "-H", help="Write only the first N steps of the forecast (the model forecasts the horizon it was trained for; at most that) [default: all of them]."),
    output_dir: Optional[Path] = typer.Option(None, help="Folder for one forecast per input, named <input stem>.forecast.csv (.forecast.parquet for Parquet input; created if missing, as mkdir -p)."),
    engine: str = typer.Option("auto", help="Run the network with onnx (ONNX Runtime, no TensorFlow), keras, or auto (onnx when the model has it)."),
    as_of: Optional[str] = typer.Option(None, help="Forecast from this time: rows after it are ignored (a date, as the file writes them or ISO, or an integer step)."),
    skip_short: bool = typer.Option(False, "--skip-short", help="Leave out series shorter than the model's lookback (a new product's first days) and forecast the others, with a warning and their count in --json, instead of failing the file."),
    json_summary: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout (per file: status, series, rows, series skipped as too short, series ending before the others (late), seconds, error)."),
    lock_timeout: float = LOCK_TIMEOUT,
    workers: Optional[int] = typer.Option(None, "--workers", help="Spread the Parquet parts of each input over a Dask cluster of N worker processes on this machine (one task per part; needs --output FILE or --output-dir)."),
    dask: Optional[str] = typer.Option(None, "--dask", help="Spread the Parquet parts over an existing Dask cluster: its scheduler's address (tcp://host:8786). Paths must be the same on every worker."),
    plot: Optional[Path] = PLOT,
    plot_series: int = PLOT_SERIES,
    quiet: bool = QUIET,
) -> None:
    """Forecast the next `horizon` values of every series in DATA; writes unique_id, ds, yhat.

    Several files (or a glob) are forecast in one process, one output each in --output-dir; a
    file that fails is reported and the others are still written (exit 7 if any failed).
    With --workers or --dask, each input's Parquet parts are forecast in parallel and joined into
    the same file a one-process run writes.

    Example: forecast predict model sample_data/airpassengers.csv --output forecast.csv
    """
    from forecast_cli import batch
    from forecast_cli.atomic import check_writable
    from forecast_cli.data import STDIN
    from forecast_cli.errors import UsageError
    from forecast_cli.output import ConsoleReporter
    from forecast_cli.pipeline import Predictor

    _check_output_flags(plot_series, lock_timeout)
    _check_argument_order("predict", model_dir, data)
    inputs = batch.expand_inputs(data)
    if output is not None and output_dir is not None:
        raise UsageError("give either --output (one input) or --output-dir (any number of inputs), not both.")
    last = data[-1]  # the output file given as one more input, where it names no file
    if (output is None and output_dir is None and len(data) > 1 and last != STDIN and not glob.has_magic(last)
            and not Path(last).exists()):
        raise UsageError(f"{last}: no such input file. To write the forecast there, name it with --output: "
                         f"forecast predict {model_dir} {' '.join(data[:-1])} --output {last}")
    if output_dir is None and len(inputs) > 1:
        raise UsageError(
            f"{len(inputs)} input files were given; one forecast file each needs --output-dir FOLDER."
        )
    to_stdout = output_dir is None and (output is None or output == "-")
    if json_summary and to_stdout:
        raise UsageError("--json prints its summary on stdout, so forecasts need --output FILE or --output-dir.")
    if plot is not None and len(inputs) > 1:
        raise UsageError("--plot draws one input file; give a single DATA file with --plot.")
    on_cluster = workers is not None or dask is not None
    if Path(STDIN) in inputs and (output_dir is not None or on_cluster):
        raise UsageError("- (standard input) has no file name to name its forecast in --output-dir, and no path "
                         "a cluster's workers could read: give --output FILE (or stdout) without --workers/--dask.")
    if on_cluster:
        _check_cluster_flags(workers, dask)
        if to_stdout:
            raise UsageError("--workers/--dask stage each part beside the output before joining them, so they need "
                             "--output FILE or --output-dir (not stdout).")
    targets = [None] * len(inputs) if to_stdout else (
        [batch.output_for(p, output_dir) for p in inputs] if output_dir is not None else [Path(output)])
    batch.check_outputs({"--output-dir" if output_dir is not None else "--output": targets, "--plot": [plot]},
                        inputs, model_dir, [p for p in data if glob.has_magic(p)])
    if output_dir is not None:
        batch.check_distinct(inputs, targets)
        batch.make_output_dir(output_dir)  # only once the command line is known to be usable
    for target in [*targets, plot]:
        if target is not None:
            check_writable(target)
    reporter = ConsoleReporter(quiet=quiet)
    lock = contextlib.nullcontext() if to_stdout else batch.exclusive_lock(output_dir or Path(output), lock_timeout)
    keep_going = len(inputs) > 1 or json_summary
    with lock:
        predictor = Predictor(model_dir, engine, steps)  # on a cluster too: the model is checked before any worker starts
        if on_cluster:
            from forecast_cli import cluster

            with cluster.open_client(workers, dask) as client:
                model = cluster.ModelRef.of(model_dir, engine, predictor.manifest, steps)
                draw = None if plot is None else (
                    lambda frame, history, total: _plot_forecast(predictor, frame, plot, plot_series, history, total))
                forecaster = cluster.cluster_forecaster(client, model, as_of, predictor.manifest, reporter, skip_short,
                                                        draw, plot_series)
                results = batch.predict_files(forecaster, inputs, targets, reporter, keep_going)
        else:
            draw = None if plot is None else (lambda frame: _plot_forecast(predictor, frame, plot, plot_series))
            forecaster = batch.local_forecaster(predictor, reporter, as_of, on_forecast=draw, skip_short=skip_short)
            results = batch.predict_files(forecaster, inputs, targets, reporter, keep_going)
    failures = [r for r in results if r.status != "ok"]
    if json_summary:
        summary = {"model_dir": str(model_dir), "engine": predictor.network.name, "ok": len(results) - len(failures),
                   "failed": len(failures), "files": [dataclasses.asdict(r) for r in results]}
        if on_cluster:
            summary["cluster"] = {"workers": workers} if dask is None else {"scheduler": dask}
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    if failures:
        raise typer.Exit(int(failures[0].exit_code) if len(inputs) == 1 else int(ExitCode.PARTIAL))


def _check_cluster_flags(workers: int | None, dask: str | None) -> None:
    from forecast_cli.errors import UsageError

    if workers is not None and dask is not None:
        raise UsageError("give either --workers N (a cluster started here) or --dask ADDRESS (an existing one), not both.")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: expected at least 1 worker process.")


def _check_output_flags(plot_series: int, lock_timeout: float | None = None) -> None:
    """Flags of the commands that write outputs, checked before any work: --plot draws at least
    one series, and --lock-timeout waits 0 seconds or more (filelock waits forever below 0,
    which would hang a cron job behind a stuck run)."""
    from forecast_cli.errors import UsageError

    if plot_series < 1:
        raise UsageError(f"--plot-series must be at least 1 (the series --plot draws). Received: plot_series={plot_series}.")
    if lock_timeout is not None and not lock_timeout >= 0:
        raise UsageError(f"--lock-timeout must be 0 or more seconds (0: do not wait). Received: "
                         f"lock_timeout={lock_timeout:g}.")


def _plot_forecast(predictor, frame, plot: Path, n: int, data=None, total: int | None = None) -> None:
    """The first `n` series of the forecast `frame` by id, with their recent history: `data`, or
    the data the predictor read last (on a cluster, the workers send both for the first series of
    each part, and `total` counts the series forecast)."""
    import numpy as np

    from forecast_cli.forecast_file import quantile_levels
    from forecast_cli.plots import Panel, left_out, save_panels

    manifest = predictor.manifest
    if data is None:
        data = predictor.last_dataset.as_read()  # the history the forecast was made from, a gap where filled in
    keep = 3 * max(predictor.steps, manifest.season)
    levels = quantile_levels(frame)
    ids = frame["unique_id"].unique()
    first = np.sort(ids)[:n]  # not the groups of every series: a million of them took a minute
    panels = []
    for uid, fc in frame[frame["unique_id"].isin(first)].groupby("unique_id", sort=True):
        hist = data[data["unique_id"] == uid].tail(keep)
        x, y = hist["ds"].to_numpy(), hist["y"].to_numpy()
        # The forecast line (and band) go on from the last value, where the file has it, so that
        # the picture reads as one series and not as two lines with a step missing between them.
        joined = slice(-1, None) if len(y) and np.isfinite(y[-1]) else slice(0, 0)

        def on(column: str):
            return np.concatenate([y[joined], fc[column].to_numpy()])

        times = np.concatenate([x[joined], fc["ds"].to_numpy()])
        panel = Panel(str(uid), history=(x, y), forecasts=[(times, on("yhat"), "forecast")])
        if len(levels) >= 2:
            (low, lo_q), (high, hi_q) = list(levels.items())[0], list(levels.items())[-1]
            panel.band = (times, on(low), on(high), f"{lo_q:g}-{hi_q:g} quantiles")
        panels.append(panel)
    save_panels(panels, plot, f"Forecast of the next {predictor.steps} steps"
                + left_out(len(panels), len(ids) if total is None else total, "the first by id"))


@app.command()
@handle_errors
def detect(
    model_dir: Path = typer.Argument(..., help="Model directory written by `forecast train`."),
    data: Path = typer.Argument(..., help="CSV or Parquet as `forecast predict` takes it; the values to check are the last of each series."),
    last: Optional[int] = typer.Option(None, "--last", help="Values checked per series, the latest ones [default: the model's horizon]."),
    level: float = typer.Option(0.99, "--level", help="The band's level: a value outside it is an anomaly (0.99: 1 ordinary value in 100 falls outside)."),
    calibration: Optional[int] = typer.Option(None, "--calibration", help="Values before the checked ones whose one-step errors set the band [default: 2,000 over the series, 20 to 500 each]."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="File of every checked value (unique_id, ds, actual, forecast, lower, upper, score, anomaly): Parquet if it ends in .parquet, else CSV (compressed if it ends in .gz, .bz2 or .xz); or - for stdout [default: -]."),
    json_summary: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout (counts, the band, each anomaly); needs --output FILE."),
    fail_on_anomaly: bool = typer.Option(False, "--fail-on-anomaly", help="Exit 8 when at least one anomaly was found (outputs are still written), for cron alerts."),
    fail_on_late: bool = typer.Option(False, "--fail-on-late", help="Exit 8 also when a series ends before the others (its latest values have not arrived: a feed that stopped), every run until they arrive; the series are late_series in --json."),
    engine: str = typer.Option("auto", help="Run the network with onnx, keras, or auto (onnx when the model has it)."),
    as_of: Optional[str] = typer.Option(None, help="Check the values up to this time: rows after it are ignored (a date, as the file writes them or ISO, or an integer step)."),
    skip_short: bool = typer.Option(False, "--skip-short", help="Leave out series too short to check (shorter than the lookback, the values checked and 10 to measure errors on) and check the others, with a warning and their count in --json, instead of failing."),
    lock_timeout: float = LOCK_TIMEOUT,
    workers: Optional[int] = typer.Option(None, "--workers", help="Spread the Parquet parts of DATA over a Dask cluster of N worker processes on this machine (three rounds of one task per part); the same output as one process."),
    dask: Optional[str] = typer.Option(None, "--dask", help="Spread the Parquet parts over an existing Dask cluster: its scheduler's address (tcp://host:8786). Paths must be the same on every worker."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write a PNG (SVG or PDF for a name ending .svg or .pdf) of each series' recent values, the forecasts and band of the checked ones, anomalies circled."),
    plot_series: int = typer.Option(4, "--plot-series", help="Series drawn in --plot: those with anomalies first, the one farthest outside its band first, then the others (N in all)."),
    state: Optional[Path] = typer.Option(None, "--state", help="JSON file of each series' latest value checked, kept from run to run: only the values after it are reported (in the output, the counts, --json and --fail-on-anomaly), so that a nightly run reports each value once, the night it arrives; created when missing, updated after the outputs are written."),
    quiet: bool = QUIET,
) -> None:
    """Flag the latest values the model did not expect: each of the last --last values of every
    series against the model's forecast for it from the values before it, outside a band at --level.

    Example: forecast detect model sample_data/airpassengers.csv --output anomalies.csv --fail-on-anomaly
    """
    from forecast_cli import batch
    from forecast_cli.atomic import atomic_write_bytes, check_writable
    from forecast_cli.data import ID, TIME
    from forecast_cli.detect import detect as run_detect
    from forecast_cli.errors import UsageError
    from forecast_cli.forecast_file import encode_table, forecasts_to_csv, source_types
    from forecast_cli.output import ConsoleReporter, err_console
    from forecast_cli.reported import Reported

    _check_output_flags(plot_series, lock_timeout)
    _check_argument_order("detect", model_dir, [str(data)])
    if last is not None and last < 1:
        raise UsageError(f"--last {last}: expected at least 1 value to check per series.")
    if not 0.0 < level < 1.0:
        raise UsageError(f"--level {level}: expected a number between 0 and 1 (0.99: a 99% band).")
    if calibration is not None and calibration < 10:
        raise UsageError(f"--calibration {calibration}: expected at least 10 values to measure the model's errors on.")
    to_stdout = output is None or output == "-"
    if json_summary and to_stdout:
        raise UsageError("--json prints its summary on stdout, so the checked values need --output FILE.")
    on_cluster = workers is not None or dask is not None
    if on_cluster:
        _check_cluster_flags(workers, dask)
        if str(data) == "-":
            raise UsageError("- (standard input) has no path a cluster's workers could read: give the data's path, "
                             "or drop --workers/--dask.")
    batch.check_outputs({"--output": [None if to_stdout else Path(output)], "--plot": [plot], "--state": [state]},
                        [data], model_dir)
    for target in (None if to_stdout else Path(output), plot, state):
        if target is not None:
            check_writable(target)
    reporter = ConsoleReporter(quiet=quiet)
    with contextlib.ExitStack() as locks:
        for target in (None if to_stdout else Path(output), state):
            if target is not None:
                locks.enter_context(batch.exclusive_lock(target, lock_timeout))
        from forecast_cli.pipeline import Predictor

        predictor = Predictor(model_dir, engine)  # the model is checked before any work (or worker) starts
        manifest = predictor.manifest
        reported = None if state is None else Reported.read(state, manifest.time_kind)
        if on_cluster:
            from forecast_cli import cluster
            from forecast_cli.cluster_detect import detect_on_cluster

            def plotted(found):  # the series the plot draws, once the values reported before are taken out
                from forecast_cli.detect import plotted_series
                from forecast_cli.output import SilentReporter

                if reported is not None:
                    found = _unreported(found, reported, manifest, last, SilentReporter())[0]
                return plotted_series(found.table, plot_series)

            with cluster.open_client(workers, dask) as client:
                found = cluster.over_whole_series(
                    lambda parts: detect_on_cluster(client, cluster.ModelRef.of(model_dir, engine, manifest), data,
                                                    parts, manifest.config, last, level, calibration, as_of, reporter,
                                                    skip_short, manifest.columns.id_col,
                                                    None if plot is None else plotted),
                    client, Path(data), manifest.columns.time_col, manifest.columns.id_names,
                    Path(data) if to_stdout else Path(output), reporter, "checks", manifest.columns.all_columns)
        else:
            found = run_detect(predictor, data, last, level, calibration, engine, as_of, reporter, skip_short)
        lasts = found.table.groupby(ID, sort=True)[TIME].max()  # before the values reported earlier are taken out
        earlier = 0
        if reported is not None:
            found, earlier = _unreported(found, reported, manifest, last, reporter)
        if to_stdout:
            sys.stdout.write(forecasts_to_csv(found.table))
        else:
            atomic_write_bytes(output, encode_table(found.table, output, source_types(data, manifest.columns, output)))
        if reported is not None:  # after the outputs: a run that fails before them reports the values again
            atomic_write_bytes(state, reported.to_bytes(found.table))
    if plot is not None:
        _plot_detection(found, plot, plot_series)
    late = batch.warn_late(data, lasts.index.to_numpy(), lasts.to_numpy(), reporter, "last value is", manifest.grid_freq)
    summary = {**found.summary(), "late": len(late), "late_series": late}
    if reported is not None:
        summary["reported_before"] = earlier
    if not quiet:
        _print_detection(err_console(), found, summary)
    if json_summary:
        where = {"cluster": {"workers": workers} if dask is None else {"scheduler": dask}} if on_cluster else {}
        sys.stdout.write(json.dumps({"model_dir": str(model_dir), "data": str(data), **summary, **where}, indent=2) + "\n")
    if (fail_on_anomaly and summary["anomalies"]) or (fail_on_late and late):
        raise typer.Exit(int(ExitCode.ANOMALY))


def _unreported(found, reported, manifest, last: int | None, reporter):
    """The detection without the values an earlier run with the same --state reported, and how
    many those were; a warning when values arrived since the last run that are older than the
    --last checked (runs were missed), which no run will check."""
    missed, example = reported.skipped(found.table, manifest.grid_freq, manifest.step)
    if missed:
        uid, mark, start = example
        checked = manifest.config.horizon if last is None else last
        reporter.warn(f"{missed} series had more values since the last check than the {checked} checked "
                      f"(e.g. {uid!r}: checked up to {mark} by an earlier run, from {start} by this one); the values "
                      "between were not checked. Raise --last to check them.")
    new = reported.new(found.table)
    return dataclasses.replace(found, table=found.table[new].reset_index(drop=True)), int((~new).sum())


def _print_detection(console, found, summary: dict) -> None:
    from rich.table import Table

    from forecast_cli.detect import ANOMALIES_SHOWN, farthest

    console.print(f"Band: {found.describe_band()}.", markup=False)
    missing = f"; {summary['missing']} missing in the data, not checked" if summary["missing"] else ""
    if summary.get("reported_before"):
        missing += f"; {summary['reported_before']} reported by earlier runs, not again"
    title = (f"{summary['anomalies']} anomal{'y' if summary['anomalies'] == 1 else 'ies'} in {summary['checked']} "
             f"values checked ({summary['series']} series, level {found.level:g}{missing})")
    if not summary["anomalies"]:
        console.print(title + ".", markup=False)
        return
    table = Table(title=title)
    for name in ("series", "time", "actual", "forecast", "band", "score"):
        table.add_column(name, justify="left" if name in ("series", "time") else "right")
    rows = found.anomalies
    for row in farthest(rows, ANOMALIES_SHOWN).to_dict("records"):
        table.add_row(str(row["unique_id"]), str(row["ds"]), number(row["actual"]), number(row["forecast"]),
                      f"{number(row['lower'])} to {number(row['upper'])}", f"{row['score']:+.2f}")
    console.print(table)
    if len(rows) > ANOMALIES_SHOWN:
        console.print(f"... the {ANOMALIES_SHOWN} farthest outside their band are shown, and {len(rows) - ANOMALIES_SHOWN} "
                      "more are in the output.", markup=False)


def _plot_detection(found, plot: Path, n: int) -> None:
    from forecast_cli.detect import plotted_series
    from forecast_cli.plots import Panel, left_out, save_panels

    # a gap where a value was filled in; on a cluster, the workers read the plotted series' history
    data = found.drawn if found.dataset is None else found.dataset.as_read()
    panels = []
    for uid in plotted_series(found.table, n):
        rows = found.table[found.table["unique_id"] == uid]
        keep = 3 * len(rows)
        hist = data[data["unique_id"] == uid].tail(keep)
        x = rows["ds"].to_numpy()
        flagged = rows[rows["anomaly"]]
        panels.append(Panel(
            str(uid), history=(hist["ds"].to_numpy(), hist["y"].to_numpy()),
            forecasts=[(x, rows["forecast"].to_numpy(), "one-step forecast")],
            band=(x, rows["lower"].to_numpy(), rows["upper"].to_numpy(), f"{found.level:g} band"),
            marks=(flagged["ds"].to_numpy(), flagged["actual"].to_numpy(), "anomaly"),
        ))
    title = (f"Anomalies: the last {len(rows)} values of each series against the model's forecasts"
             + left_out(len(panels), found.table["unique_id"].nunique(), "those with anomalies first") if panels
             # --state: every value was reported by an earlier run; the plot says so rather than go missing
             else "Anomalies: no new values to check (each series' latest values were reported by an earlier run, "
                  "--state)")
    save_panels(panels, plot, title)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
