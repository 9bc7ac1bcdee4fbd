"""Typer commands only: parse flags, call the library, print, and map errors to exit codes."""

from __future__ import annotations

import functools
import signal
import sys
from pathlib import Path
from typing import Callable, Optional

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
    data: Path = typer.Argument(..., help="CSV with the training columns; the last `lookback` rows of each series are read."),
    output: str = typer.Option("-", "--output", "-o", help="Forecast CSV to write (replaced whole), or - for stdout."),
    engine: str = typer.Option("auto", help="Run the network with onnx (ONNX Runtime, no TensorFlow), keras, or auto (onnx when the model has it)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors on stderr."),
) -> None:
    """Forecast the next `horizon` values of every series in DATA; writes unique_id, ds, yhat.

    Example: forecast predict model sample_data/airpassengers.csv --output forecast.csv
    """
    from forecast_cli.artifacts import atomic_write_text, check_writable
    from forecast_cli.output import ConsoleReporter
    from forecast_cli.pipeline import forecasts_to_csv
    from forecast_cli.pipeline import predict as run_predict

    if output != "-":
        check_writable(Path(output))
    reporter = ConsoleReporter(quiet=quiet)
    frame = run_predict(model_dir, data, reporter, engine)
    text = forecasts_to_csv(frame)
    if output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        atomic_write_text(output, text)
        reporter.info(f"Wrote {len(frame)} forecasts for {frame['unique_id'].nunique()} series to {output}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
