"""Predicting on a Dask cluster: one task per Parquet part, each written as its own part, then
joined in the driver into the file a one-process `predict` writes, byte for byte.

What runs where:
- the driver (the `forecast predict` process) lists the parts, sends one task per part, and
  joins the forecast parts into the output, a bounded number of rows at a time;
- each worker process loads the model once (ONNX Runtime, one thread), reads its part with the
  same column rules as a one-process run, forecasts its series and writes them, whole or not at
  all, as one Parquet part in a staging folder beside the output.

A part is the unit of work, so a series must lie in one part (data written partitioned by
series, as Spark, Dask and most warehouses can). Data cut by time (a folder or file a day) is
regrouped by series on the cluster first (`whole_series`); so is data whose series turn out,
once the parts are read, to lie in two parts (a second pass, where the other answer is a
refusal). A worker that dies mid-run has its parts rerun by Dask; a part file is named by its
index and replaced whole, so a rerun never leaves a partial or duplicate part. The staging
folder is removed when the run ends, and the output is renamed into place only once every part
is in.

Paths are passed to the workers made absolute: on a real cluster the model directory, the data
and the output folder must be on storage every worker sees at the same path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

import numpy as np
import pandas as pd

from forecast_cli.atomic import atomic_open, remove_stale_temps, temp_name
from forecast_cli.batch import FileResult, warn_late
from forecast_cli.cells import PARQUET_SUFFIX, is_parquet
from forecast_cli.config import padded_text, parse_columns
from forecast_cli.data import (ID, TIME, NothingAsOf, _time_by_name, common_keys, in_first_order, parquet_parts,
                               part_frame, part_label, partition_values, read_part)
from forecast_cli.errors import ClusterError, DataError, ModelDirError
from forecast_cli.forecast_file import date_detail, fitted, source_types, table_sink
from forecast_cli.manifest import Manifest
from forecast_cli.output import Reporter, SilentReporter
from forecast_cli.pool import chunks, starmap

RELAYED = 5  # the parts' warnings shown in full; of more, a count
SERIES_PER_PIECE = 50_000  # series joined per step in the driver: its memory is bounded by this, not the data
PART_ROW_GROUP_SERIES = 4_096  # series per row group in a forecast part, so the driver reads a part a little at a time
CONNECT_SECONDS = 20  # how long to keep trying to reach a scheduler given by --dask (a busy one may answer late)
REGROUPED_ROWS = 1_000_000  # rows a regrouped part is made for: about half a gigabyte at the worker forecasting it


@contextlib.contextmanager
def open_client(workers: int | None, address: str | None) -> Iterator[Any]:
    """A Dask client: a `LocalCluster` of `workers` processes (one thread each) started here and
    closed on exit, or the existing scheduler at `address`."""
    from distributed import Client, LocalCluster

    if address is not None:
        try:
            client = Client(address, timeout=f"{CONNECT_SECONDS}s")
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {address} ({' '.join(str(exc).split())[:200]}). "
                "Check the address (tcp://host:8786) and that `dask scheduler` is running there."
            ) from None
        with client:
            yield client
        return
    # The workers' own error logs stay quiet: a user's data error raised in a task ("Compute
    # Failed" and its traceback) reaches this process and is said once, as `Error: ...`.
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=logging.CRITICAL)
    with cluster, Client(cluster) as client:
        yield client


def spread(client: Any) -> Callable[..., list[Any]]:
    """A `map` whose calls run on the cluster's workers, `pool.SERIES_PER_TASK` at a time, the results
    in order: for work that is per series (the ETS fits in `train`)."""

    def mapper(fn: Callable[..., Any], *iterables: Any) -> list[Any]:
        tasks = chunks(iterables)
        with warnings.catch_warnings():
            # The series travel inside the tasks, so that Dask can rerun a task whose worker died
            # (data scattered to a worker beforehand dies with it). Dask warns from 10 MB of
            # tasks (10,000 validation histories: 16 MB), advice for Dask's own users that a
            # user of this tool cannot act on.
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
            futures = client.map(starmap, [fn] * len(tasks), tasks, pure=False)
        with cluster_errors("the per-series fits", futures, client):
            return [value for future in futures for value in future.result()]

    return mapper


@contextlib.contextmanager
def cluster_errors(what: str, futures: list[Any], client: Any) -> Iterator[None]:
    """Cancel the rest when a task fails; a task Dask gave up (its workers kept dying) is a
    cluster error (exit 9), a user error raised on a worker is raised as it is."""
    from distributed import KilledWorker

    try:
        yield
    except KilledWorker as exc:
        client.cancel(futures)
        raise ClusterError(
            f"the workers running {what} died again and again ({' '.join(str(exc).split())[:200]}); "
            "Dask gave the task up. Check the workers' memory limit and logs."
        ) from None
    except BaseException:
        client.cancel(futures)
        raise


def _running(keys: set[Any], dask_worker: Any = None) -> list[Any]:
    """Run on each worker by `settle`: which of these tasks the worker is still running (a
    cancelled task that had started stays in `executing` until its function returns)."""
    return [ts.key for ts in (*dask_worker.state.executing, *dask_worker.state.long_running) if ts.key in keys]


SETTLE_SECONDS = 60.0  # longest wait for cancelled tasks that had started


def settle(client: Any, futures: list[Any], timeout: float = SETTLE_SECONDS) -> None:
    """Wait until no worker runs any of `futures`' tasks any more, at most `timeout` seconds.

    A cancel stops the tasks that have not started; one already running goes on to its end and
    may still write its part into the staging folder. Removing the folder before then left it
    behind with that part in it. (Past the timeout the folder is removed anyway, and whatever a
    late task writes is a stale temporary that the next run on that output removes.)"""
    keys = {future.key for future in futures}
    deadline = time.monotonic() + timeout
    while True:
        try:
            busy = client.run(_running, keys)
        except Exception:  # the cluster itself is failing: nothing to wait for
            return
        if not any(busy.values()) or time.monotonic() > deadline:
            return
        time.sleep(0.05)


class Notes(SilentReporter):
    """A reporter on a worker: keeps the warnings for the driver to show (`relay`)."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def relay(warnings: Iterable[Iterable[str]], reporter: Reporter) -> None:
    """The warnings the parts' workers kept, each said once, as one process says them of a file
    (a series filled in more than read, ids that lost their leading zeros, rows not read): the
    first `RELAYED` in full, then how many more, since a thousand parts may each warn alike."""
    unique = list(dict.fromkeys(w for part in warnings for w in part))
    for message in unique[:RELAYED]:
        reporter.warn(message)
    if len(unique) > RELAYED:
        reporter.warn(f"... and {len(unique) - RELAYED} more warning(s) from reading the parts.")


@dataclasses.dataclass(frozen=True)
class PartResult:
    """What a worker sends back for one part: its series in output order, and the forecast's rows."""

    index: int
    part: str
    ids: np.ndarray
    rows: int
    date_detail: int
    skipped: int = 0  # series left out as shorter than the lookback (--skip-short)
    short: tuple[str, int] | None = None  # one of them and its values, for the error if every part's were
    starts: np.ndarray | None = None  # each series' first forecast time, beside `ids` (`batch.warn_late`)
    padded: int = 0  # series shorter than the lookback, read padded (a model with `min_history`)
    padded_example: tuple[str, int] | None = None  # one of them and its values, for the note
    zoned: bool = False  # times read with UTC offsets, as UTC (`check_zones`)
    warnings: tuple[str, ...] = ()  # what reading the part warned of, for the driver to show (`relay`)
    left: np.ndarray = dataclasses.field(default_factory=lambda: np.array([], dtype=object))  # ids of `skipped`
    # the part's Parquet time and id types that every forecast time and id fits (`source_types`)
    types: dict[str, Any] = dataclasses.field(default_factory=dict)
    # for `predict --plot`: the forecast rows and recent history (as read) of the part's first
    # series by id, among which are the whole data's first (`drawn`)
    drawn: tuple[pd.DataFrame, pd.DataFrame] | None = None


@dataclasses.dataclass(frozen=True)
class ModelRef:
    """The model a cluster run forecasts with, as its workers are told of it: the folder (an
    absolute path: a worker of an existing cluster does not run in the driver's folder), the
    engine, and the identity of the manifest the driver loaded (`Manifest.identity`), so that
    every part is forecast by that very model even if `train` replaces the folder meanwhile."""

    folder: str
    engine: str
    identity: str
    steps: int | None = None  # the forecast's first steps written (`predict --horizon`); None: all

    @classmethod
    def of(cls, model_dir: Path, engine: str, manifest: Any, steps: int | None = None) -> ModelRef:
        return cls(str(model_dir.resolve()), engine, manifest.identity, steps)


_PREDICTORS: dict[ModelRef, Any] = {}  # per worker process: each model loaded once


def worker_predictor(model: ModelRef) -> Any:
    """The worker's loaded model, kept for the process's life. A folder that holds another model
    than the driver's (trained again during the run) is an error: the parts forecast before would
    be the old model's and the rest the new one's."""
    from forecast_cli.pipeline import Predictor

    if model not in _PREDICTORS:
        _PREDICTORS.clear()
        predictor = Predictor(model.folder, model.engine, model.steps)
        if predictor.manifest.identity != model.identity:
            raise ModelDirError(
                f"{model.folder} was replaced by another model (written {predictor.manifest.created_at}) during this "
                "run, which reads it on every worker: run again, so that every part is forecast by one model."
            )
        _PREDICTORS[model] = predictor
    return _PREDICTORS[model]


def forecast_part(model: ModelRef, as_of: str | None, skip_short: bool, index: int, part: str,
                  out: str, plotted: int = 0) -> PartResult | Later:
    """Run on a worker: forecast every series of one part and write the forecast to `out` whole
    (nothing for a part with no row as of `as_of`); with `plotted`, send back that many series'
    rows to draw (`drawn`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    predictor = worker_predictor(model)
    notes = Notes()
    try:
        ready = predictor.prepare(part, notes, as_of, skip_short, part=True)
    except NothingAsOf as error:
        return Later.of(part, error)
    frame = predictor.forecast_prepared(ready)
    horizon = predictor.steps
    # Decided on the whole part, so that the driver keeps the type only where every part's times
    # fit it (a later piece of the joined file that did not fit could not change the file's type)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    types = fitted(table, source_types(part, predictor.manifest.columns, out))[1]
    with atomic_open(out) as fh:
        pq.write_table(table, fh, row_group_size=PART_ROW_GROUP_SERIES * horizon)
    # A copy, not a view of the column: the result stays on the worker until the join, and a view
    # would keep every row's id alive with it (80 MB a part of 25,000 series).
    ids = np.array(frame[ID].to_numpy()[::horizon], dtype=object)
    starts = frame["ds"].to_numpy()[::horizon].copy()
    short = next(iter(ready.skipped.items()), None)
    padded = predictor.padded(ready)
    return PartResult(index, part, ids, len(frame), date_detail(frame["ds"]), len(ready.skipped), short, starts,
                      len(padded), padded[0] if padded else None, zoned(ready.dataset), tuple(notes.warnings),
                      np.array(list(ready.skipped), dtype=object), types,
                      drawn(frame, ready.dataset, plotted, horizon, predictor.manifest.season) if plotted else None)


def drawn(frame: pd.DataFrame, dataset: Any, n: int, steps: int, season: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The forecast rows and the last 3 x max(steps, season) values as read (`Dataset.as_read`)
    of the first `n` series of a part by id, as `predict --plot` picks them from a whole file:
    the first of the whole data are among the parts' firsts, so the driver draws what one process
    draws without reading any part itself."""
    first = np.sort(frame[ID].unique())[:n]
    return frame[frame[ID].isin(first)].reset_index(drop=True), recent(dataset, first, 3 * max(steps, season))


def recent(dataset: Any, ids: Iterable[Any], keep: int) -> pd.DataFrame:
    """The last `keep` values as read (`Dataset.as_read`: a gap where a value was filled in) of
    the series `ids` of a part's data, for a plot the driver draws (`drawn`, and `detect`'s)."""
    data = dataset.as_read()
    chosen = data[ID].astype(str).isin([str(uid) for uid in ids])
    return data[chosen].groupby(ID, sort=False).tail(keep).reset_index(drop=True)


@dataclasses.dataclass(frozen=True)
class Later:
    """What a worker sends back for a part none of whose rows is at or before `--as-of` (series
    that began after it, in data partitioned by series): the part holds nothing yet. One process
    reading the whole folder leaves such series out; so does the driver, unless every part is
    later (`with_rows`)."""

    part: str
    first: Any  # the part's first time
    rows: int  # its rows, every one after --as-of

    @classmethod
    def of(cls, part: str, error: NothingAsOf) -> Later:
        return cls(part, error.first, error.rows)


def with_rows(results: list[Any], source: str, as_of: str | None) -> list[Any]:
    """The parts' results without the parts that hold nothing as of `as_of` (`Later`); when no
    part holds a row, the error one process gives of the whole input."""
    kept = [r for r in results if not isinstance(r, Later)]
    if results and not kept:
        firsts = [r.first for r in results]
        try:
            first = min(firsts)
        except TypeError:  # parts with UTC offsets beside parts without: one process refuses the mix
            first = firsts[0]
        raise NothingAsOf(source, str(as_of), first, sum(r.rows for r in results))
    return kept


def zoned(dataset: Any) -> bool:
    """Whether a part's times were read with UTC offsets (or a zone), as UTC."""
    return dataset.time_kind == "datetime" and dataset.frame[TIME].dt.tz is not None


def check_zones(parts: Iterable[tuple[str, bool]]) -> None:
    """Refuse parts of times with UTC offsets beside parts of times without (`zoned`, by part
    in the file's order): one process reads the parts as one file and refuses the mix, where
    each part alone reads."""
    parts = list(parts)
    with_zone = next((part for part, z in parts if z), None)
    without = next((part for part, z in parts if not z), None)
    if with_zone is not None and without is not None:
        raise DataError(
            f"{with_zone} has times with a UTC offset but {without} times without one: read as one file, "
            "the times mix the two. Give every time an offset (e.g. +00:00), or none."
        )


def data_parts(path: Path) -> list[Path]:
    """The units of work of one input: each Parquet part, or the whole of a CSV file."""
    return parquet_parts(path) if is_parquet(path) else [path]


def regroup(id_col: str | None) -> str:
    """The line of Dask that rewrites a table into parts of whole series (a shuffle by the id
    column, or columns), for the errors that refuse parts sharing a series.

    Example:
        >>> regroup(None)
        "Dask rewrites it so: dd.read_parquet(FOLDER).shuffle('unique_id').to_parquet(NEW_FOLDER)."
        >>> regroup("shop,family")
        "Dask rewrites it so: dd.read_parquet(FOLDER).shuffle(['shop', 'family']).to_parquet(NEW_FOLDER)."
    """
    keys = parse_columns(id_col or ID)
    key = repr(keys[0]) if len(keys) == 1 else repr(list(keys))
    return f"Dask rewrites it so: dd.read_parquet(FOLDER).shuffle({key}).to_parquet(NEW_FOLDER)."


class SplitSeries(DataError):
    """A series found in two parts once they were read, where nothing before said the data was
    cut by time (the first two parts shared no series): `over_whole_series` regroups the parts by
    series and runs again. `where` names the series and the two parts; `id_col` is the id
    column(s) the parts were read with (None: the data has none)."""

    def __init__(self, message: str, where: str, id_col: str | None) -> None:
        super().__init__(message)
        self.where, self.id_col = where, id_col


Result = TypeVar("Result")


def over_whole_series(run: Callable[[list[Path]], Result], client: Any, path: Path, time_col: str | None,
                      id_names: tuple[str, ...] | None, beside: Path, reporter: Reporter, work: str = "reads",
                      needed: Iterable[str] = ()) -> Result:
    """`run` on the parts of `path` as `whole_series` gives them (the other arguments are its
    own). Where `run` finds a series in two parts that nothing said were cut by time (files of a
    few days each, say, whose first two share no series: `SplitSeries`), the parts are
    regrouped by series on the cluster and `run` runs again on them: a second pass costs less
    than a nightly job refused until someone rewrites the data."""
    given: list[Path] = []
    try:
        with whole_series(client, path, time_col, id_names, beside, reporter, work, needed) as parts:
            given = parts
            return run(parts)
    except SplitSeries as split:
        if given != data_parts(path):
            raise  # the parts were regrouped already: the regrouping is wrong, not the data
        with whole_series(client, path, time_col, id_names, beside, reporter, work, needed, split) as parts:
            return run(parts)


@contextlib.contextmanager
def whole_series(client: Any, path: Path, time_col: str | None, id_names: tuple[str, ...] | None, beside: Path,
                 reporter: Reporter, work: str = "reads", needed: Iterable[str] = (),
                 split: SplitSeries | None = None) -> Iterator[list[Path]]:
    """The parts of `path` as a cluster's units of work, each read alone and so each holding
    whole series. Parts cut by time (`cut_by_time`: a table partitioned by day, a file a day, a
    series without an id cut into files) are first regrouped by series on the cluster, as Dask's
    shuffle does it, into a folder beside `beside` (the output) that is removed when the block
    ends; the same rows and columns, so the forecast is one process's. `time_col`, `id_names`:
    as `cut_by_time` takes them. `work`: what a worker does with a part, for the note that one
    part leaves the other workers idle. `needed`: the columns besides the time, id and target
    that a role needs (the model's); a column the folders name that is none of those (a bucket,
    the day a row was loaded) is left out, as one process leaves it out of the data. `split`: a
    series found in two parts by an earlier pass, which has the parts regrouped whatever else
    they show."""
    parts = data_parts(path)
    why, time_col, keys = cut_by_time(parts, time_col, id_names, split)
    if why is None:
        if len(parts) == 1:
            reporter.info(f"{path} is one part, so one worker {work} it all; write the data as several Parquet "
                          "parts (partitioned by series) to use every worker.")
        yield parts
        return
    remove_stale_temps(beside)
    staging = temp_name(beside, "regrouped")
    grouped = (f"regrouping them by series ({', '.join(keys)}) on the cluster first, each row moved once" if keys
               else "joining them into one part on the cluster first, which one worker then reads")
    reporter.info(f"{path}: {why}; {grouped}")
    # With no time column found by name, every folder's column stays: one of them may be the time.
    dropped = [] if time_col is None else [key for key in partition_values(parts[0])
                                           if key not in {time_col, *keys, *needed}]
    try:
        yield regrouped(client, parts, keys, dropped, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def cut_by_time(parts: list[Path], time_col: str | None, id_names: tuple[str, ...] | None,
                split: SplitSeries | None = None) -> tuple[str | None, str | None, tuple[str, ...]]:
    """Why several parts hold pieces of the same series (None where nothing says so), the time
    column's name as found, and the columns that tell the series apart (none: one series, or a
    wide file's). The reasons: the time column names the parts' folders (`ds=2024-01-01/`, as a
    table partitioned by day is written), the first two parts hold a series in common (a file a
    day), or the data has no id (`id_names` ()) and comes in several parts.

    Args:
        parts: the data's Parquet parts.
        time_col: the time column; None: the one a usual time name names among the first part's
            columns and its folders' (as one process finds it by name).
        id_names: the id columns; () for data without (one series, a wide file); None where not
            known (`train` without --id-col or --wide): unique_id if the data has it.
        split: a series found in two parts once they were read (`SplitSeries`): a reason of its
            own, the id columns being those the parts were read with.

    A part that cannot be read is left for a worker to name; data cut by time whose id is not
    known is refused, asking for it.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if len(parts) < 2:
        return None, time_col, ()
    folders = partition_values(parts[0])
    try:
        names = [*pq.read_schema(parts[0]).names, *folders]
    except (OSError, ValueError, pa.ArrowException):
        return None, time_col, ()
    time_col = time_col or _time_by_name(names)
    if split is not None:
        keys = id_names if id_names is not None else parse_columns(split.id_col) if split.id_col else ()
        return f"{split.where}, found once the parts were read", time_col, keys
    keys = (ID,) if id_names is None and ID in names else id_names
    if keys == ():
        return f"its {len(parts)} parts have no id column: each holds a piece of the same series", time_col, ()
    if time_col in folders:
        if keys is None:
            raise DataError(f"{parts[0]}: the time column {time_col!r} names the parts' folders "
                            f"({time_col}={folders[time_col]}): the data is cut by time, and a cluster reads each part "
                            "alone. Name the id column(s) with --id-col to have the cluster regroup the parts by "
                            "series (--wide for a column per series), or train without --workers/--dask.")
        return f"the time column {time_col!r} names the parts' folders ({time_col}={folders[time_col]})", time_col, keys
    if keys is not None and _series_in_common(parts[:2], ",".join(keys)):
        return f"{part_label(parts[0])} and {part_label(parts[1])} hold the same series", time_col, keys
    return None, time_col, ()


def regrouped(client: Any, parts: list[Path], keys: tuple[str, ...], dropped: list[str], staging: Path) -> list[Path]:
    """`parts` rewritten by Dask on the cluster into `staging` as parts of whole series: shuffled
    by the id columns `keys` (each series' rows in one part), or into one part where the data has
    none. Each part is read as one process reads it (`part_frame`: its folders' values as
    columns of text, so a date folder stays a text time as it was), less the folders' columns
    `dropped`, which say where a part lay (a bucket, the day it was loaded), not what was
    recorded; they would not say it of the new parts. Dates keep their Parquet type (pandas
    holds them as objects, which Dask would write as timestamps), so that a forecast in Parquet
    keeps it as one process's does. As many parts are made as `regrouped_count` says."""
    import dask.dataframe as dd
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(parts[0])
    meta = part_frame(schema.empty_table(), parts[0])
    frame = dd.from_map(_part_rows, [str(p.resolve()) for p in parts], args=[list(meta.columns), dropped],
                        meta=meta.drop(columns=dropped), enforce_metadata=False)
    if keys:
        frame = frame.shuffle(list(keys), npartitions=regrouped_count(
            sum(pq.read_metadata(p).num_rows for p in parts), len(parts), sum(client.nthreads().values())))
    else:
        frame = frame.repartition(npartitions=1)
    dates = {field.name: field.type for field in schema if pa.types.is_date(field.type)}
    written = client.compute(frame.to_parquet(str(staging.resolve()), write_index=False, schema=dates or "infer",
                                              compute=False))
    with cluster_errors("the regrouping of the parts", [written], client):  # cancelled if this run stops
        written.result()
    return parquet_parts(staging)


def regrouped_count(rows: int, parts: int, threads: int) -> int:
    """How many parts data of `rows` rows in `parts` parts is regrouped into, on a cluster of
    `threads` worker threads: one for each `REGROUPED_ROWS` rows, and at least one a thread so
    that every worker has work, but never more than the data had. Dask's own choice, as many as
    the data had, makes a table of many days many tiny parts, each a task with its own overhead.

    Example:
        >>> regrouped_count(rows=100_000, parts=200, threads=2)  # 500 series, 200 daily folders
        2
        >>> regrouped_count(rows=50_000_000, parts=365, threads=8)
        50
        >>> regrouped_count(rows=50_000_000, parts=12, threads=8)
        12
        >>> regrouped_count(rows=0, parts=3, threads=0)
        1
    """
    return min(parts, max(threads, 1, -(-rows // REGROUPED_ROWS)))  # one at least: a scheduler may have no worker yet


def _part_rows(part: str, names: list[str], dropped: list[str]) -> pd.DataFrame:
    """Run on a worker: one part's rows for `regrouped`, in the first part's columns `names`,
    less those `dropped`."""
    return in_first_order(read_part(Path(part))[0], names, Path(part)).drop(columns=dropped)


def _series_in_common(parts: list[Path], id_col: str) -> bool:
    """Whether the parts hold a series in common, by the id columns' values as written (a
    partition column's from the folders' names); False where a part lacks an id column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    keys = list(parse_columns(id_col))
    seen = []
    try:
        for part in parts:
            folders, names = partition_values(part), pq.read_schema(part).names
            if not all(key in names or key in folders for key in keys):
                return False
            ids = pq.read_table(part, columns=[key for key in keys if key in names]).to_pandas()
            ids = ids.assign(**{key: folders[key] for key in keys if key in folders})[keys].astype(str)
            seen.append(set(ids.itertuples(index=False, name=None)))
    except (OSError, ValueError, pa.ArrowException):
        return False
    return bool(seen[0] & seen[1])


Draw = Callable[[pd.DataFrame, pd.DataFrame, int], None]  # a plot of forecasts, histories and the count of series


def cluster_forecaster(client: Any, model: ModelRef, as_of: str | None, manifest: Manifest,
                       reporter: Reporter, skip_short: bool = False, draw: Draw | None = None,
                       plotted: int = 0) -> Callable[[Path, Path | None], FileResult]:
    """`batch.predict_files`' forecaster on a cluster: each input's parts spread over the workers
    (`manifest`: the model's, as the driver loaded it). `draw`: called, before the forecast is
    written, with the forecast rows and histories of each part's first `plotted` series by id
    (`drawn`) and the count of series forecast (the plot)."""

    def run(path: Path, target: Path | None) -> FileResult:
        assert target is not None, "the command line requires an output file with --workers/--dask"
        return over_whole_series(
            lambda parts: predict_on_cluster(client, model, as_of, path, parts, target, manifest, reporter, skip_short,
                                             draw, plotted),
            client, path, manifest.columns.time_col, manifest.columns.id_names, target, reporter, "forecasts",
            manifest.columns.all_columns)

    return run


def predict_on_cluster(client: Any, model: ModelRef, as_of: str | None, path: Path, parts: list[Path], target: Path,
                       manifest: Manifest, reporter: Reporter, skip_short: bool = False, draw: Draw | None = None,
                       plotted: int = 0) -> FileResult:
    """Forecast the data at `path` with one task per part (`parts`: its units of work, from
    `whole_series`) and write the joined forecast to `target` whole, warning as one process does
    of series left out or starting early. With `skip_short`, a part may hold only short series;
    a file with none long enough fails, as in one process. `draw`, `plotted`: as
    `cluster_forecaster` takes them."""
    from forecast_cli.pipeline import short_series_error, short_series_warning

    config = manifest.config

    from distributed import as_completed

    remove_stale_temps(target)
    staging = temp_name(target, "parts")
    staging.mkdir()
    futures: list[Any] = []
    try:
        outs = [staging / f"part-{i:05d}{PARQUET_SUFFIX}" for i in range(len(parts))]
        # Absolute paths: a worker of an existing cluster does not run in this process's folder.
        futures = client.map(forecast_part, [model] * len(parts),
                             [as_of] * len(parts), [skip_short] * len(parts), range(len(parts)),
                             [str(p.resolve()) for p in parts],
                             [str(o.resolve()) for o in outs], [plotted if draw else 0] * len(parts), pure=False)
        results: list[PartResult | Later] = [None] * len(parts)  # type: ignore[list-item]  # every slot filled below
        position = {future.key: i for i, future in enumerate(futures)}
        with cluster_errors(f"the parts of {path}", futures, client):
            for done, future in enumerate(as_completed(futures), start=1):
                result = future.result()
                results[position[future.key]] = result
                got = f"no row as of {as_of}" if isinstance(result, Later) else f"{len(result.ids)} series"
                reporter.info(f"Forecast part {done}/{len(parts)}: {result.part} ({got})")
        results = with_rows(results, str(path), as_of)
        check_zones((r.part, r.zoned) for r in results)
        relay((r.warnings for r in results), reporter)
        order = output_order(results, manifest.columns.id_col)
        skipped = sum(r.skipped for r in results)
        if skip_short and not len(order):
            raise short_series_error(path, first_example(r.short for r in results), skipped, config.lookback, True,
                                     config.least_history)
        if draw is not None:  # before the output, as one process draws it
            pieces = [r.drawn for r in results if r.drawn is not None and len(r.drawn[0])]
            draw(pd.concat([f for f, _ in pieces], ignore_index=True),
                 pd.concat([h for _, h in pieces], ignore_index=True), len(order))
        with atomic_open(target) as fh:
            join_parts(results, outs, order, model.steps or config.horizon, target, fh, common_types(results),
                       manifest.columns.id_col)
        padded = sum(r.padded for r in results)
        if padded:
            example = first_example(r.padded_example for r in results)
            reporter.info(f"{path}: {padded_text(padded, example, config.lookback, config.season)}")
        if skipped:  # as one process says it, naming the first of them
            reporter.warn(short_series_warning(path, first_example(r.short for r in results), skipped,
                                               config.lookback, config.least_history))
        offsets = np.cumsum([0] + [len(r.ids) for r in results])[order["part"].to_numpy()]
        starts = np.concatenate([r.starts for r in results])[offsets + order["pos"].to_numpy()]
        late = warn_late(path, order[ID].to_numpy(), starts, reporter, freq=manifest.grid_freq)
        return FileResult(input=str(path), output=str(target), series=len(order), rows=sum(r.rows for r in results),
                          parts=len(parts), skipped=skipped, late=len(late), late_series=late)
    except BaseException:
        settle(client, futures)  # the parts still being written, before their folder goes
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def common_types(results: list[PartResult]) -> dict[str, Any]:
    """The Parquet types every part's forecast fits (`PartResult.types`), each the same in every
    part: a type that one part's forecast does not fit, or that parts give differently (a store
    number of int32 in one and int64 in another), is left to pandas' own (timestamps, text)."""
    found = [r.types for r in results]
    if not found:
        return {}
    return {column: kind for column, kind in found[0].items() if all(f.get(column) == kind for f in found)}


def first_example(examples: Iterable[tuple[str, int] | None]) -> tuple[str, int]:
    """Among the parts' examples of a kind of series (id, values; None for a part with none), the
    one a one-process run names: the first in the file's order of series (by id)."""
    return min((e for e in examples if e is not None), key=lambda e: str(e[0]))


def output_order(results: list[PartResult], id_col: str | None = None) -> pd.DataFrame:
    """Every series with the part and position its forecast is at, in the order a one-process
    predict writes them (sorted by id). A series in two parts, among the series left out as
    short (`left`) too, is a `SplitSeries`, on which the parts are regrouped, as one process reads
    the two pieces as one series (`id_col`: the model's id column, to regroup by)."""
    positions = [np.arange(len(r.ids) + len(r.left)) for r in results]
    every = pd.DataFrame({
        ID: np.concatenate([np.concatenate([r.ids, r.left]) for r in results]).astype(str),
        "part": np.concatenate([np.full(len(pos), k) for k, pos in enumerate(positions)]),
        "pos": np.concatenate(positions),
    })
    forecast = np.concatenate([pos < len(r.ids) for pos, r in zip(positions, results)])
    twice = every[ID].duplicated(keep=False)
    if twice.any():
        uid = every.loc[twice, ID].iloc[0]
        found = [results[k].part for k in every.loc[every[ID] == uid, "part"]]
        raise SplitSeries(
            f"series {uid!r} is in more than one part ({found[0]} and {found[1]}; "
            f"{int(twice.sum())} rows of the order in all): a series must lie in one part to be "
            f"read on a cluster. Write the data partitioned by {id_col or ID}, or run without --workers/--dask "
            f"({regroup(id_col)})",
            f"series {uid!r} is in more than one part ({part_label(Path(found[0]))} and {part_label(Path(found[1]))})",
            id_col)
    return every[forecast].sort_values(ID, kind="stable").reset_index(drop=True)


class _PartReader:
    """Reads a forecast part's rows in increasing order, one row group at a time."""

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        self.file = pq.ParquetFile(path)
        self.group, self.start, self.table = -1, 0, None

    def rows(self, start: int, stop: int) -> Any:
        import pyarrow as pa

        pieces = []
        while start < stop:
            while self.table is None or start >= self.start + self.table.num_rows:
                self.start += 0 if self.table is None else self.table.num_rows
                self.group += 1
                self.table = self.file.read_row_group(self.group)
            take = min(stop, self.start + self.table.num_rows) - start
            pieces.append(self.table.slice(start - self.start, take))
            start += take
        return pa.concat_tables(pieces)


def joined_schema(schemas: list[Any], id_col: str | None) -> Any | None:
    """The one schema of the parts' forecasts where they differ (the key columns of a model with
    several id columns, each of its part's type: `data.common_keys` decides, as one process's
    reading of the parts joined would); None where they agree."""
    import pyarrow as pa

    if all(schema.equals(schemas[0]) for schema in schemas[1:]):
        return None
    empty = pd.concat([schema.empty_table().to_pandas() for schema in schemas], ignore_index=True)
    return pa.Schema.from_pandas(common_keys(empty, id_col), preserve_index=False)


def join_parts(results: list[PartResult], outs: list[Path], order: pd.DataFrame, horizon: int, target: Path,
               fh: Any, types: dict[str, Any] | None = None, id_col: str | None = None) -> None:
    """Write the parts' forecasts to `fh` in `order`, `SERIES_PER_PIECE` series at a time (the
    times and ids as `types` in a Parquet target, see `forecast_file.ParquetSink`; the columns of
    one type, `joined_schema`)."""
    import pyarrow as pa

    readers = [_PartReader(outs[r.index]) for r in results]
    # a part whose every series was left out (--skip-short) has no rows to join, and no column types
    forecast = [reader.file.schema_arrow for reader, r in zip(readers, results) if len(r.ids)]
    schema = joined_schema(forecast, id_col) if forecast else None
    sink = table_sink(fh, target, max(r.date_detail for r in results), types)
    part, pos = order["part"].to_numpy(), order["pos"].to_numpy()
    for first in range(0, len(order), SERIES_PER_PIECE):
        chunk_part, chunk_pos = part[first:first + SERIES_PER_PIECE], pos[first:first + SERIES_PER_PIECE]
        tables, offsets, base = [], {}, 0
        for k in np.unique(chunk_part):  # within a part, the chunk's series are consecutive
            lo, hi = int(chunk_pos[chunk_part == k].min()), int(chunk_pos[chunk_part == k].max()) + 1
            rows = readers[k].rows(lo * horizon, hi * horizon)
            tables.append(rows if schema is None else rows.cast(schema))
            offsets[k] = base - lo * horizon
            base += (hi - lo) * horizon
        starts = np.array([offsets[k] for k in chunk_part]) + chunk_pos * horizon
        rows = (starts[:, None] + np.arange(horizon)[None, :]).reshape(-1)
        sink.write(pa.concat_tables(tables).take(pa.array(rows)))
    sink.close()

