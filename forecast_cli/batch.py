"""Predicting many files in one process: input expansion, output naming, locking, the per-file loop and its results."""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from forecast_cli.atomic import atomic_write_bytes
from forecast_cli.cells import is_parquet
from forecast_cli.data import COMPRESSED_SUFFIXES, glob_files
from forecast_cli.errors import ForecastError, LockTimeoutError, OutputError, UsageError
from forecast_cli.forecast_file import encode_table, forecasts_to_csv, source_types
from forecast_cli.output import Reporter, error_line

if TYPE_CHECKING:
    import numpy as np


@dataclasses.dataclass
class FileResult:
    """What happened to one input file; `--json` prints a list of these."""

    input: str
    output: str | None
    status: str = "ok"  # or "error"
    series: int = 0
    rows: int = 0
    seconds: float = 0.0
    error: str | None = None
    exit_code: int = 0
    parts: int | None = None  # on a cluster: the input's parts, one task each
    skipped: int = 0  # series left out as shorter than the lookback (--skip-short)
    late: int = 0  # series whose forecast starts before the others' (`warn_late`)
    late_series: list[str] = dataclasses.field(default_factory=list)  # ... their ids


def expand_inputs(patterns: list[str]) -> list[Path]:
    """Each argument as a path, or the files a glob pattern matches (sorted, no repeats).

    Example:
        >>> expand_inputs(["incoming/*.csv"])
        [PosixPath('incoming/a.csv'), PosixPath('incoming/b.csv')]
    """
    paths: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            paths.extend(glob_files(pattern))
        else:
            paths.append(Path(pattern))
    seen: set[Path] = set()
    return [p for p in paths if not (p in seen or seen.add(p))]


def output_for(input_path: Path, output_dir: Path) -> Path:
    """The forecast file written for an input: `<output_dir>/<input stem>.forecast.csv`, or
    `.forecast.parquet` for Parquet input (a file, or a folder of parts named by the folder). A
    compressed CSV loses its compression suffix too; the forecast is written plain.

    Example:
        >>> output_for(Path("in/sales.csv"), Path("out")), output_for(Path("in/sales.csv.gz"), Path("out"))
        (PosixPath('out/sales.forecast.csv'), PosixPath('out/sales.forecast.csv'))
    """
    suffix = ".parquet" if is_parquet(input_path) else ".csv"
    stem = input_path.stem
    if input_path.suffix.lower() in COMPRESSED_SUFFIXES and Path(stem).suffix.lower() in (".csv", ".tsv", ".txt"):
        stem = Path(stem).stem
    return output_dir / f"{stem}.forecast{suffix}"


def check_distinct(inputs: list[Path], targets: list[Path]) -> None:
    """Refuse inputs that would write the same forecast file (`a/x.csv` and `b/x.csv`, or
    `x.csv` and `x.csv.gz`): the later forecast would replace the earlier without a word."""
    first: dict[Path, Path] = {}
    for source, target in zip(inputs, targets):
        if target in first:
            root = _partitioned_root(source)
            fix = (f"They are parts of the partitioned folder {root}: pass {root} to forecast its parts as one input."
                   if root is not None and root == _partitioned_root(first[target])
                   else "Forecast them with separate --output-dir folders, or rename one.")
            raise UsageError(f"{first[target]} and {source} would both write {target}. {fix}")
        first[target] = source


def _partitioned_root(part: Path) -> Path | None:
    """The folder a part of hive-partitioned Parquet lies in (above its column=value folders),
    or None for a file in a plain folder."""
    from forecast_cli.data import partition_values

    depth = len(partition_values(part))
    return part.parents[depth] if depth else None


# Formats a table is not written in (a .tsv would have held commas, not tabs).
NOT_CSV = (".xlsx", ".xls", ".xlsm", ".ods", ".json", ".feather", ".arrow", ".pkl", ".pickle", ".h5", ".tsv", ".tab",
           ".orc", ".avro")


def _check_format(flag: str, output: Path) -> None:
    """Refuse a plot or table path whose ending names a format the tool does not write: `--plot
    forecast.jpg` had PNG bytes under that name, `--output forecast.xlsx` CSV text that Excel
    then refused to open."""
    from forecast_cli.plots import PLOT_FORMATS

    suffix = output.suffix.lower()
    if flag == "--plot" and suffix not in PLOT_FORMATS:
        raise UsageError(f"--plot {output}: plots are written as PNG, SVG or PDF, by the name's ending. "
                         "Name it .png, .svg or .pdf.")
    if flag == "--output" and suffix in NOT_CSV:
        raise UsageError(f"--output {output}: tables are written as CSV (compressed for .gz, .bz2 or .xz) or Parquet "
                         f"(.parquet), not {suffix}. Name it .csv or .parquet.")


def check_outputs(outputs: dict[str, list[Path | None]], inputs: list[Path], model_dir: Path | None = None,
                  patterns: Sequence[str] = ()) -> None:
    """Refuse an output (by the flag that names it; None: not written) that is one of the inputs
    (`predict model data.csv --output data.csv` replaced the data with its forecast), lies inside
    an input folder of Parquet parts, or matches an input glob pattern (`'incoming/*.csv'
    --output-dir incoming`), where the next run would read it as data; or that lies inside the
    model directory, where it could replace one of the model's files (`--output
    model/manifest.json`) and the next `train` replaces the folder whole; or that another flag
    names too (`detect --output x.csv --state x.csv`)."""
    import fnmatch
    import os

    from forecast_cli.data import STDIN

    named: dict[Path, str] = {}  # each output's path: the flag that named it first
    for flag, output in ((f, o) for f, paths in outputs.items() for o in paths if o is not None):
        other = named.setdefault(output.resolve(), flag)
        if other != flag:  # one would replace the other (and the second lock waits for the first)
            raise UsageError(f"{output} is named by both {other} and {flag}: each needs a file of its own. "
                             f"Give another {flag}.")
        for pattern in patterns:
            if fnmatch.fnmatch(os.path.normpath(output), os.path.normpath(pattern)):
                raise UsageError(f"{output} ({flag}) matches the input pattern {pattern!r}: the next run would read it "
                                 f"as data. Give a {flag} the pattern does not match.")
        where = output.resolve()
        for source in (s for s in inputs if str(s) != STDIN):
            if where == source.resolve():
                raise UsageError(f"{output} ({flag}) is the input {source}: its data would be replaced by what is "
                                 f"made from it. Give another {flag}.")
            if source.is_dir() and where.is_relative_to(source.resolve()):
                raise UsageError(f"{output} ({flag}) is inside the input folder {source}: the next run would read it "
                                 f"as one of its parts. Give a {flag} outside it.")
        if model_dir is not None and where.is_relative_to(model_dir.resolve()):
            raise UsageError(f"{output} ({flag}) is inside the model directory {model_dir}: it could replace the "
                             f"model's own files, and the next train replaces the folder whole. Give a {flag} "
                             "outside it.")
        _check_format(flag, output)  # after the checks that keep data and models safe, which matter more


def make_output_dir(folder: Path) -> None:
    """Create the `--output-dir` folder and its parents if missing (a new cron line's first run
    should not fail for want of `mkdir -p`); a file in the way or a folder that cannot be made is
    an output error."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"--output-dir {folder} is a file; expected a folder for the forecasts. Choose another path.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create --output-dir {folder}: {exc.strerror}. Choose another path.") from None


def lock_path_for(output: Path) -> Path:
    """The lock file guarding an output file or folder (hidden, beside or inside it)."""
    if output.is_dir():
        return output / ".forecast.lock"
    return output.with_name(f".{output.name}.lock")


@contextlib.contextmanager
def exclusive_lock(output: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on `output` so overlapping runs never interleave their writes.

    Waits up to `timeout` seconds for another run to finish, then raises LockTimeoutError.
    """
    from filelock import FileLock, Timeout

    from forecast_cli.atomic import is_stream

    if is_stream(output):  # /dev/null or a pipe: nothing is replaced, and no lock file goes beside it in /dev
        yield
        return
    path = lock_path_for(output)
    try:
        lock = FileLock(str(path), timeout=timeout)
        lock.acquire()
    except Timeout:
        raise LockTimeoutError(
            f"another forecast run holds the lock on {output} ({path}); waited {timeout:g}s. "
            "Let it finish, or raise --lock-timeout."
        ) from None
    except OSError as exc:
        raise OutputError(f"cannot create the lock file {path}: {exc.strerror}. Choose another output path.") from None
    try:
        yield
    finally:
        lock.release()


def timed(result: FileResult, started: float) -> FileResult:
    result.seconds = round(time.monotonic() - started, 3)
    return result


def failed(result: FileResult, exc: ForecastError) -> FileResult:
    result.status, result.error, result.exit_code = "error", " ".join(str(exc).split()), int(exc.exit_code)
    return result


def local_forecaster(predictor: Any, reporter: Reporter, as_of: str | None = None,
                     on_forecast: Callable[[Any], None] | None = None,
                     skip_short: bool = False) -> Callable[[Path, Path | None], FileResult]:
    """Forecast one input in this process with a loaded model (`pipeline.Predictor`) and write
    it whole to its target, or to stdout where the target is None. `on_forecast` is called with
    each forecast frame before it is written (the plot)."""

    def run(path: Path, target: Path | None) -> FileResult:
        ready = predictor.prepare(path, reporter, as_of, skip_short)
        padded = predictor.padded_note(ready)
        if padded:
            reporter.info(padded)
        frame = predictor.forecast_prepared(ready)
        horizon = predictor.steps
        late = warn_late(path, frame["unique_id"].to_numpy()[::horizon], frame["ds"].to_numpy()[::horizon],
                         reporter, freq=predictor.manifest.grid_freq)
        if on_forecast is not None:
            on_forecast(frame)
        if target is None:
            sys.stdout.write(forecasts_to_csv(frame))
            sys.stdout.flush()
        else:
            types = source_types(path, predictor.manifest.columns, target)
            atomic_write_bytes(target, encode_table(frame, target, types))
        return FileResult(input=str(path), output=str(target) if target else "-",
                          series=int(frame["unique_id"].nunique()), rows=len(frame), skipped=len(ready.skipped),
                          late=len(late), late_series=late)

    return run


def warn_late(source: object, ids: np.ndarray, starts: np.ndarray, reporter: Reporter,
              what: str = "forecast starts", freq: str | None = None) -> list[str]:
    """Warn when some series' data ends before the others' (`starts`: each series' first forecast
    time, or with `what="last value is"` its last checked time, beside its id), as when a feed
    stopped or last night's values have not arrived: a nightly forecast of them would cover times
    already past, a nightly check their old values. Returns how many series end early. Dates
    only: integer steps often count each series from its own start, so that series of different
    lengths end at different steps. With the data's frequency `freq`, a series is early only when
    a whole step of it is missing: weekly series on different weekdays end on different days of
    one week. Returns the ids of the series that end early."""
    import numpy as np
    import pandas as pd

    from forecast_cli.data import time_text as when

    if not len(starts) or np.issubdtype(starts.dtype, np.integer):
        return []
    latest = starts.max()
    if freq is None:
        late = np.flatnonzero(starts < latest)
    else:
        late = np.flatnonzero((pd.DatetimeIndex(starts) + pd.tseries.frequencies.to_offset(freq)) <= latest)
    if len(late):
        uid, start = str(ids[late[0]]), when(starts[late[0]])
        if len(late) == 1:
            reporter.warn(f"{source}: series {uid!r} ends before the others: its {what} at {start}, the latest "
                          f"at {when(latest)}. Its latest values may not have arrived.")
        else:
            reporter.warn(f"{source}: {len(late)} series end before the others (e.g. {uid!r}, whose {what} at "
                          f"{start}; the latest at {when(latest)}). Their latest values may not have arrived.")
    return [str(uid) for uid in ids[late]]


def predict_files(forecast: Callable[[Path, Path | None], FileResult], inputs: list[Path],
                  targets: list[Path | None], reporter: Reporter, keep_going: bool = False) -> list[FileResult]:
    """Forecast each input and write each forecast whole to its target.

    Args:
        forecast: forecasts one input and writes it (`local_forecaster`, or on a cluster
            `cluster.cluster_forecaster`).
        inputs, targets: the data files and, for each, where its forecast goes.
        reporter: receives notes.
        keep_going: record a file that fails (its error on stderr) and go on with the others;
            without it the error is raised.

    Returns:
        One `FileResult` per input, in order.

    Example:
        >>> from forecast_cli.output import SilentReporter
        >>> from forecast_cli.pipeline import Predictor
        >>> results = predict_files(local_forecaster(Predictor("model"), SilentReporter()), [Path("history.csv")],
        ...                         [Path("history.forecast.csv")], SilentReporter())
        >>> [(r.status, r.series, r.rows) for r in results]
        [('ok', 1, 12)]
    """
    results = []
    for path, target in zip(inputs, targets, strict=True):
        started = time.monotonic()
        try:
            result = forecast(path, target)
            reporter.info(f"Wrote {result.rows} forecasts for {result.series} series to "
                          f"{'stdout' if target is None else target}")
        except ForecastError as exc:
            if not keep_going:
                raise
            result = failed(FileResult(input=str(path), output=str(target) if target else "-"), exc)
            # Name the file, unless the message already does (most data errors begin with it).
            error_line(result.error if str(path) in result.error else f"{path}: {result.error}")
        results.append(timed(result, started))
    return results
