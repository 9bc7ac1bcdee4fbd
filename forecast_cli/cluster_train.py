"""Training from Parquet parts on a Dask cluster: the workers read, check, scale and window the
parts; this process (the driver) trains the network on the windows they send back.

What runs where, one task per part at each step:
1. survey: a worker reads its part with the column rules of a one-process `train` and sends back
   what the settings are resolved from: the columns and frequency, each series' id, length and
   last time, and whether any value is negative. The driver checks that the parts agree (the
   same columns and frequency, no series in two parts) and resolves the settings (lookback,
   season, windows per series, transform) as for the whole data.
2. windows: a worker cuts its part's training windows and each series' scaling statistics, and
   the validation windows of the series drawn for validation (at most 10,000 in all,
   `config.validation_series`). The driver puts them in one-process order, trains, stops early
   and chooses the forecast on them; the validation's per-series ETS fits run on the workers.
3. refit windows: the same with every window, for the refit.
4. ETS: a worker fits the final ETS parameters of its part's series.

So the driver holds the training windows (beyond 2,000 series the per-series cap keeps about
200,000 in all: `config.default_max_windows`), the validation windows with their series'
histories (at most 10,000), and a few numbers per series for the manifest: never the data. The
model is the one a one-process `train` of the same data gives (tests), since every step is
per series and the windows are put back in the order one process cuts them.

Data with covariate columns (or `--calendar`) is read whole in the driver as before, because a
covariate's scaling is one for all series; the per-series ETS fits still run on the workers.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from forecast_cli import baselines
from forecast_cli.cells import is_parquet
from forecast_cli.cluster import (Later, Notes, SplitSeries, check_zones, cluster_errors, over_whole_series, regroup,
                                  relay, spread, with_rows, zoned)
from forecast_cli.config import (TrainConfig, parse_columns, resolve_settings, validation_series, with_horizon,
                                 zero_shares)
from forecast_cli.data import ID, TARGET, TIME, Columns, NothingAsOf, parquet_parts, part_label, series_arrays
from forecast_cli.errors import DataError
from forecast_cli.output import Reporter
from forecast_cli.pipeline import (ColumnOptions, Fitted, TrainingData, as_of_note, cut_windows, fit_windows,
                                   load_training, report_settings)
from forecast_cli.timegrid import WEEKS, data_horizon, is_weekly
from forecast_cli.windows import WindowSet, merge_windows

READ_CHUNK = 1 << 24  # bytes of a part hashed at a time


@dataclasses.dataclass(frozen=True)
class Survey:
    """What a worker sends back about one part: enough to check it and resolve the settings."""

    part: str
    columns: Columns
    time_kind: str
    freq: str | None
    step: int
    zoned: bool  # times read with UTC offsets (or a zone), as UTC: a file mixing them with local times is refused
    seasons: tuple[int, ...]
    covariates: tuple[str, ...]
    ids: np.ndarray  # sorted
    lengths: np.ndarray
    last: np.ndarray  # each series' last time
    nonnegative: bool
    zeros: np.ndarray  # each series' share of zero values (`config.zero_shares`)
    rows: int
    filled: int
    warnings: list[str]
    after: int  # rows after --as-of, left out


def survey_part(part: str, config: TrainConfig, columns: ColumnOptions) -> Survey | Later:
    """Run on a worker: read and check one part; its series' lengths and last times (`Later`
    for a part with no row as of `--as-of`, which training then leaves out)."""
    notes = Notes()
    try:
        dataset, resolved = load_training(part, config, columns, notes)
    except NothingAsOf as error:
        return Later.of(part, error)
    groups = dataset.frame.groupby(ID, sort=True)
    lengths, last = groups.size(), groups[TIME].max()
    return Survey(
        part=part, columns=dataset.columns, time_kind=dataset.time_kind, freq=dataset.freq, step=dataset.step,
        zoned=zoned(dataset), seasons=dataset.seasons,
        covariates=resolved.covariates, ids=lengths.index.to_numpy(dtype=str),
        lengths=lengths.to_numpy(), last=last.to_numpy(), nonnegative=bool((dataset.frame[TARGET] >= 0).all()),
        zeros=zero_shares(series_arrays(dataset.frame)), rows=len(dataset.frame), filled=dataset.filled,
        warnings=notes.warnings, after=dataset.after,
    )


def _series(part: str, config: TrainConfig, columns: ColumnOptions) -> dict[str, np.ndarray]:
    dataset, _ = load_training(part, config, columns)
    return series_arrays(dataset.frame)


def window_part(part: str, config: TrainConfig, columns: ColumnOptions, validate: list[str] | None,
                refit: bool) -> WindowSet:
    """Run on a worker: one part's windows and scalings (see `pipeline.cut_windows`)."""
    return cut_windows(_series(part, config, columns), config, None,
                       None if validate is None else frozenset(validate), refit)


def ets_part(part: str, config: TrainConfig, columns: ColumnOptions) -> dict[str, Any]:
    """Run on a worker: the final ETS parameters of one part's series."""
    log = config.transform == "log"
    fit = baselines.FITS[config.baseline]
    return {uid: fit(values, config.baseline_season, log)
            for uid, values in _series(part, config, columns).items()}


def fit_parts(client: Any, data_path: str | Path, config: TrainConfig, columns: ColumnOptions,
              reporter: Reporter, out: Path) -> tuple[Fitted, TrainingData] | None:
    """Train from the parts of Parquet data on the cluster (see the module's description); parts
    cut by time are regrouped by series first, beside the model directory `out`
    (`cluster.whole_series`).

    Returns:
        The fitted network and what the manifest records about the data; None when the data is
        one file or part, or has covariates: then the caller reads it whole.
    """
    path = Path(data_path)
    parts = parquet_parts(path) if is_parquet(path) else []
    if len(parts) < 2:
        reporter.info(f"{path} is {'one Parquet part' if parts else 'not Parquet parts'}, so it is read here and only "
                      "the per-series fits run on the workers; write it as several Parquet parts (partitioned by "
                      "series) to have the workers read it.")
        return None
    if config.calendar or config.past_covariates or config.future_covariates:
        reporter.info("Covariates are scaled over all series at once, so the data is read here; "
                      "the per-series fits run on the workers.")
        return None
    known = parse_columns(columns.id_col) if columns.id_col else () if columns.wide else None
    needed = [columns.target_col] if columns.target_col else []
    return over_whole_series(lambda units: _fit_units(client, path, parts, units, config, columns, reporter),
                             client, path, columns.time_col, known, out, reporter, needed=needed)


def _fit_units(client: Any, path: Path, parts: list[Path], units: list[Path], config: TrainConfig,
               columns: ColumnOptions, reporter: Reporter) -> tuple[Fitted, TrainingData] | None:
    """`fit_parts` on the parts of whole series `units` (`parts` themselves, or those regrouped
    from them); the digest is of `parts`, the data as given."""
    names = [str(p.resolve()) for p in units]  # a worker of an existing cluster does not run in this folder
    n = len(names)
    read = run_parts(client, "parts read", survey_part, reporter, names, [config] * n, [columns] * n)
    surveys: list[Survey] = with_rows(read, str(path), columns.as_of)
    after = sum(s.rows if isinstance(s, Later) else s.after for s in read)  # as one process counts them
    names = [s.part for s in surveys]
    n = len(names)
    relay((s.warnings for s in surveys), reporter)
    if any(s.covariates for s in surveys):
        found = next(s for s in surveys if s.covariates)
        reporter.info(f"{found.part} has covariate columns ({', '.join(found.covariates)}), which are scaled over "
                      "all series at once, so the data is read here; the per-series fits run on the workers.")
        return None
    first = check_agree(surveys)
    ids = np.concatenate([s.ids for s in surveys])
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    check_disjoint(ids, order, surveys)
    reporter.info(
        f"Detected {path}: {len(ids)} series in {n} Parquet parts, {sum(s.rows for s in surveys)} rows, read and "
        f"windowed on the workers; {first.columns.roles()}; "
        + (f"dates, frequency {first.freq}" if first.time_kind == "datetime" else f"integer steps of {first.step}")
        + (f"; filled {sum(s.filled for s in surveys)} missing value(s)" if any(s.filled for s in surveys) else "")
    )
    if columns.as_of is not None:
        reporter.info(as_of_note(columns.as_of, after))
    config = dataclasses.replace(config, past_covariates=(), future_covariates=())
    default = data_horizon(first.time_kind, first.freq, first.columns.time_col, first.step,
                           np.concatenate([s.last for s in surveys]))
    config, note = with_horizon(config, default, str(path))
    if note:
        reporter.info(note)
    lengths = np.concatenate([s.lengths for s in surveys])[order]
    resolved = resolve_settings(config, lengths, all(s.nonnegative for s in surveys), first.seasons, str(path))
    report_settings(config, resolved, lengths, ids.tolist(), np.concatenate([s.zeros for s in surveys])[order],
                    path, reporter)
    config = resolved
    chosen = validation_series(ids.tolist(), config.seed)
    validate = [None if chosen is None else [uid for uid in s.ids if uid in chosen] for s in surveys]

    def windows(refit: bool) -> WindowSet:
        what = "parts windowed for the refit" if refit else "parts windowed"
        return merge_windows(run_parts(client, what, window_part, reporter, names, [config] * n, [columns] * n,
                                       validate, [refit] * n))

    fitted = fit_windows(windows(False), lambda: windows(True), config, str(path), reporter, spread(client))
    if fitted.keeps_ets:
        reporter.info(f"Fitting the {baselines.LABELS[fitted.config.baseline]} baseline to {len(ids)} series on the workers")
        fits: dict[str, Any] = {}
        for part_fits in run_parts(client, "parts fitted", ets_part, reporter, names, [fitted.config] * n,
                                   [columns] * n):
            fits.update(part_fits)
        fitted.ets_params = {uid: fits[uid] for uid in ids.tolist()}
    last = pd.Series(np.concatenate([s.last for s in surveys])[order], index=ids.tolist())
    data = TrainingData(first.columns, first.time_kind, first.freq, first.step, str(path), parts_digest(parts), last)
    return fitted, data


def run_parts(client: Any, what: str, fn: Callable[..., Any], reporter: Reporter, *iterables: Any) -> list[Any]:
    """`fn` on each part's arguments on the workers, the results in part order, with progress."""
    from distributed import as_completed

    futures = client.map(fn, *iterables, pure=False)
    index = {future.key: k for k, future in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    with cluster_errors(f"the parts ({what})", futures, client):
        for done, future in enumerate(as_completed(futures), start=1):
            results[index[future.key]] = future.result()
            reporter.progress(what, done, len(futures))
    return results


def check_agree(surveys: list[Survey]) -> Survey:
    """The first part's survey, once every part has its columns, kind of time and frequency.
    Weekly parts on different weekdays are weekly data of `WEEKS`, as the file of all of them
    reads in one process (each part's series read the same either way)."""
    first = surveys[0]
    if len({s.freq for s in surveys}) > 1 and all(s.time_kind == "datetime" and is_weekly(s.freq) for s in surveys):
        surveys = [dataclasses.replace(s, freq=WEEKS) for s in surveys]
        first = surveys[0]
    check_zones((s.part, s.zoned) for s in surveys)
    for s in surveys[1:]:  # never parts of a wide file: those are joined into one first (`whole_series`)
        if (s.columns.id_col is None) != (first.columns.id_col is None):
            # One part found its id where times repeat and another did not (its partition column, unused, left out).
            raise _roles_differ(s, first)
        if sorted(s.columns.all_columns) != sorted(first.columns.all_columns):
            raise DataError(
                f"{s.part}: its columns ({', '.join(s.columns.all_columns)}) differ from the first part's "
                f"({', '.join(first.columns.all_columns)}). Every part needs the same columns."
            )
        # The same columns in another order (parts written apart) are read alike, as in one process.
        s = dataclasses.replace(s, columns=dataclasses.replace(s.columns, all_columns=first.columns.all_columns))
        if s.columns.day_first != first.columns.day_first:
            orders = {True: "the day first", False: "the month first", None: "no day-month dates"}
            raise DataError(
                f"{s.part} reads its dates with {orders[s.columns.day_first]} but {first.part} with "
                f"{orders[first.columns.day_first]}: each part's order is found from its own values. Write the "
                "dates as YYYY-MM-DD (or as dates in Parquet), or train without --workers/--dask."
            )
        if s.columns != first.columns:
            raise _roles_differ(s, first)
        if (s.time_kind, s.freq, s.step) != (first.time_kind, first.freq, first.step):
            def said(x: Survey) -> str:
                return f"frequency {x.freq}" if x.time_kind == "datetime" else f"integer steps of {x.step}"

            raise DataError(
                f"{s.part} has {said(s)} but {first.part} has {said(first)}; every part of one data set needs the "
                "same frequency. Pass --freq if the detection is wrong, or train the parts separately."
            )
    return first


def _roles_differ(s: Survey, first: Survey) -> DataError:
    """The error for a part whose columns' roles differ from the first part's, with the flags
    that name them."""
    named = first.columns if first.columns.id_col is not None else s.columns
    flags = " ".join(f"--{role}-col {name}" for role, name in
                     (("id", named.id_col), ("time", named.time_col), ("target", named.target_col)) if name)
    return DataError(
        f"{s.part} reads as {s.columns.roles()} but {first.part} as {first.columns.roles()}: the columns' roles are "
        "found part by part, and a part of one series has no repeated times to find an id by. "
        f"Name them, e.g. {flags}."
    )


def check_disjoint(ids: np.ndarray, order: np.ndarray, surveys: list[Survey]) -> None:
    """A series found in two parts is a `SplitSeries` (on which the parts are regrouped): each
    part's series are windowed on their own."""
    twice = np.flatnonzero(ids[1:] == ids[:-1])
    if not len(twice):
        return
    part_of = np.concatenate([np.full(len(s.ids), k) for k, s in enumerate(surveys)])[order]
    k = int(twice[0])
    id_col = surveys[0].columns.id_col
    first, second = surveys[part_of[k]].part, surveys[part_of[k + 1]].part
    raise SplitSeries(f"series {str(ids[k])!r} is in more than one part ({first} and {second}): a series must lie in "
                      f"one part to be trained on a cluster. Write the data partitioned by {id_col or ID}, or train "
                      f"without --workers/--dask ({regroup(id_col)})",
                      f"series {str(ids[k])!r} is in more than one part ({part_label(Path(first))} and "
                      f"{part_label(Path(second))})", id_col)


def parts_digest(parts: list[Path]) -> str:
    """The SHA-256 of the parts' names and bytes, as `data.read_parquet` computes it when it
    reads them whole, read here a piece at a time."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part_label(part).encode() + b"\0")
        with open(part, "rb") as fh:
            while chunk := fh.read(READ_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()
