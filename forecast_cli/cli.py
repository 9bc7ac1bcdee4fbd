"""Typer commands only: parse flags, call the library, print, and map errors to exit codes."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import signal
import sys
import time
from pathlib import Path
from typing import Callable, List, Optional

import typer

from forecast_cli.errors import ExitCode, ForecastError

app = typer.Typer(
    name="forecast",
    help="Train an LSTM on CSV time series and write forecasts. Exit codes: see the README.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _fail(message: str, code: int) -> None:
    sys.stderr.write("Error: " + " ".join(message.split()) + "\n")  # one line, for logs
    sys.stderr.flush()
    raise typer.Exit(code)


def _on_sigterm(signum, frame):  # a cron `timeout` or kill: stop like Ctrl-C, leaving outputs whole
    raise KeyboardInterrupt


def handle_errors(command: Callable) -> Callable:
    """Turn the tool's own errors into `Error: ...` on stderr and their exit code; a bug keeps
    its traceback (exit 1)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            return command(*args, **kwargs)
        except ForecastError as exc:
            _fail(str(exc), int(exc.exit_code))
        except KeyboardInterrupt:
            sys.stderr.write("Interrupted; earlier outputs are unchanged.\n")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper


@app.command()
@handle_errors
def train(
    data: Path = typer.Argument(..., help="CSV: one series (time, value) or many in long format (unique_id, ds, y)."),
    horizon: int = typer.Option(..., "--horizon", "-H", help="Steps to forecast."),
    lookback: Optional[int] = typer.Option(None, help="Past steps the network reads [default: max(2 x horizon, 2 x season), at most the shortest series]."),
    out: Path = typer.Option(Path("model"), "--out", "-o", help="Model directory to write (replaced whole on success)."),
    time_col: Optional[str] = typer.Option(None, help="Time column [default: ds, date, timestamp, ... or the first]."),
    target_col: Optional[str] = typer.Option(None, help="Value column [default: y, or the only other column]."),
    id_col: Optional[str] = typer.Option(None, help="Series id column [default: unique_id if present]."),
    freq: Optional[str] = typer.Option(None, help="Pandas frequency (h, D, W-SUN, MS, QS, ...) [default: inferred]."),
    season: Optional[int] = typer.Option(None, help="Season length in steps [default: from the frequency; 1 for integer steps]."),
    fill: str = typer.Option("interpolate", help="Missing values and timestamps: interpolate, ffill, zero or none (refuse)."),
    epochs: int = typer.Option(60, help="Most epochs to train (early stopping usually ends sooner)."),
    batch_size: Optional[int] = typer.Option(None, help="Windows per gradient step [default: about 16 steps an epoch, 16 to 256]."),
    units: int = typer.Option(64, help="LSTM units per layer."),
    layers: int = typer.Option(1, help="Stacked LSTM layers."),
    dropout: float = typer.Option(0.0, help="Dropout after each LSTM layer."),
    learning_rate: float = typer.Option(1e-3, help="Adam learning rate."),
    patience: int = typer.Option(6, help="Epochs without validation improvement before stopping."),
    seed: int = typer.Option(42, help="Seed for every random choice (recorded in the model)."),
    val_windows: int = typer.Option(1, help="Validation windows per series, taken from its end."),
    max_windows: int = typer.Option(300, help="Most recent training windows used per series."),
    loss: str = typer.Option("mae", help="Training loss: mae, mse or huber."),
    window_norm: str = typer.Option("season", help="Level taken off each window: season (mean of the last season), last, none."),
    transform: str = typer.Option("auto", help="Model the values as they are (none) or log(1 + value) (log); auto: log when no value is negative."),
    refit: bool = typer.Option(False, "--refit/--no-refit", help="After early stopping, train again on all the data (validation part included) for the best number of epochs."),
    scaling: str = typer.Option("std", help="Per-series scaling from the training part: std (subtract the mean, divide by the standard deviation) or mean (subtract the mean only)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors on stderr (for cron)."),
) -> None:
    """Train one global LSTM on every series in DATA and write a model directory.

    Example: forecast train sample_data/airpassengers.csv --horizon 12 --out model
    """
    from forecast_cli.config import TrainConfig
    from forecast_cli.output import ConsoleReporter
    from forecast_cli.pipeline import ColumnOptions
    from forecast_cli.pipeline import train as run_train

    config = TrainConfig(
        horizon=horizon, lookback=lookback, season=season, epochs=epochs, batch_size=batch_size,
        units=units, layers=layers, dropout=dropout, learning_rate=learning_rate, patience=patience,
        seed=seed, val_windows=val_windows, max_windows=max_windows, loss=loss, window_norm=window_norm, transform=transform,
        refit=refit, scaling=scaling,
        fill=fill,
    )
    reporter = ConsoleReporter(quiet=quiet)
    try:
        result = run_train(data, config, out, ColumnOptions(time_col, target_col, id_col, freq), reporter)
    finally:
        reporter.close()
    if not quiet:
        _print_summary(reporter.console, result)


def _print_summary(console, result) -> None:
    from rich.table import Table

    m = result.metrics
    table = Table(title=f"Validation on the last {result.config.horizon} steps of each series ({m['windows']} windows)")
    table.add_column("model")
    for name in ("MAE", "RMSE", "sMAPE %", "MASE"):
        table.add_column(name, justify="right")
    for label, key in (("LSTM", "lstm"), ("seasonal naive", "seasonal_naive"), ("naive", "naive")):
        row = m[key]
        table.add_row(label, *(_fmt(row[k]) for k in ("mae", "rmse", "smape", "mase")))
    console.print(table)
    skill = m.get("skill_vs_seasonal_naive")
    verdict = ""
    if skill is not None:
        verdict = f"; skill vs seasonal naive {skill:+.1%}" + (" (the LSTM loses to it)" if skill < 0 else "")
    console.print(
        f"{result.n_series} series, {result.train_windows} training windows, {result.epochs_run} epochs "
        f"(best {result.best_epoch}), {result.seconds:.0f}s{verdict}.\nModel written to {result.out}/",
        markup=False,
    )


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.4e}"


@app.command()
@handle_errors
def predict(
    model_dir: Path = typer.Argument(..., help="Model directory written by `forecast train`."),
    data: List[str] = typer.Argument(..., help="CSV file(s) or quoted glob patterns ('incoming/*.csv') with the training columns."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Forecast CSV for a single input (replaced whole), or - for stdout [default: -]."),
    output_dir: Optional[Path] = typer.Option(None, help="Folder for one forecast per input, named <input stem>.forecast.csv."),
    engine: str = typer.Option("auto", help="Run the network with onnx (ONNX Runtime, no TensorFlow), keras, or auto (onnx when the model has it)."),
    as_of: Optional[str] = typer.Option(None, help="Forecast from this time: rows after it are ignored (a date, or an integer step)."),
    json_summary: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout (per file: status, series, rows, seconds, error)."),
    lock_timeout: float = typer.Option(60.0, help="Seconds to wait for another run writing the same output, then exit 6."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors on stderr."),
) -> None:
    """Forecast the next `horizon` values of every series in DATA; writes unique_id, ds, yhat.

    Several files (or a glob) are forecast in one process, one output each in --output-dir; a
    file that fails is reported and the others are still written (exit 7 if any failed).

    Example: forecast predict model sample_data/airpassengers.csv --output forecast.csv
    """
    from forecast_cli import batch
    from forecast_cli.artifacts import atomic_write_text, check_writable
    from forecast_cli.errors import UsageError
    from forecast_cli.output import ConsoleReporter
    from forecast_cli.pipeline import Predictor, forecasts_to_csv

    inputs = batch.expand_inputs(data)
    if output is not None and output_dir is not None:
        raise UsageError("give either --output (one input) or --output-dir (any number of inputs), not both.")
    if output_dir is None and len(inputs) > 1:
        raise UsageError(
            f"{len(inputs)} input files were given; one forecast file each needs --output-dir FOLDER."
        )
    to_stdout = output_dir is None and (output is None or output == "-")
    if json_summary and to_stdout:
        raise UsageError("--json prints its summary on stdout, so forecasts need --output FILE or --output-dir.")
    if output_dir is not None and not output_dir.is_dir():
        raise UsageError(f"--output-dir {output_dir} is not an existing folder. Create it first (mkdir -p {output_dir}).")
    targets = [None] * len(inputs) if to_stdout else (
        [batch.output_for(p, output_dir) for p in inputs] if output_dir is not None else [Path(output)])
    for target in targets:
        if target is not None:
            check_writable(target)
    reporter = ConsoleReporter(quiet=quiet)
    lock = contextlib.nullcontext() if to_stdout else batch.exclusive_lock(output_dir or Path(output), lock_timeout)
    results: list[batch.FileResult] = []
    with lock:
        predictor = Predictor(model_dir, engine)
        for path, target in zip(inputs, targets):
            started = time.monotonic()
            result = batch.FileResult(input=str(path), output=str(target) if target else "-")
            try:
                frame = predictor.forecast(path, reporter, as_of)
                text = forecasts_to_csv(frame)
                if target is None:
                    sys.stdout.write(text)
                    sys.stdout.flush()
                else:
                    atomic_write_text(target, text)
                result.series, result.rows = int(frame["unique_id"].nunique()), len(frame)
                reporter.info(f"Wrote {result.rows} forecasts for {result.series} series to {result.output}")
            except ForecastError as exc:
                if len(inputs) == 1 and not json_summary:
                    raise
                batch.failed(result, exc)
                sys.stderr.write(f"Error: {path}: {result.error}\n")
            results.append(batch.timed(result, started))
    failures = [r for r in results if r.status != "ok"]
    if json_summary:
        summary = {"model_dir": str(model_dir), "engine": predictor.network.name, "ok": len(results) - len(failures),
                   "failed": len(failures), "files": [dataclasses.asdict(r) for r in results]}
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    if failures:
        raise typer.Exit(int(failures[0].exit_code) if len(inputs) == 1 else int(ExitCode.PARTIAL))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
