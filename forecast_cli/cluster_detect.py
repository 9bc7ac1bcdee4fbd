"""`forecast detect` on a Dask cluster: the values a one-process `detect` flags, found part by part.

A value is judged against a band that pools every series (the error correction's shares and the
band's width are fitted to the one-step errors of all of them), so no part can be judged before
every part has been measured. Three rounds of one task per part, each reading its part with the
same rules as one process (`Predictor.prepare`):

1. survey: each part's series, the ones shorter than the lookback and the ones too short to
   check; the file's count of series sets the calibration stretch (`detect.default_calibration`),
   and a short series fails the run, or is left out, as in one process;
2. calibration: each part's one-step errors on the values before the checked ones, pooled by the
   driver in the order of the file's series into the band one process makes (`detect.band_from`).
   A part whose own count of series already sets the stretch the file's count will (the fewest
   values a series, from `CALIBRATION_TOTAL / CALIBRATION_MIN` series a part on; or a stretch
   given with `--calibration`) is measured in the survey, and so read twice, not three times;
3. judging: each part's checked values against its share of the band; the driver puts the rows
   in the order one process writes them (by series), so the output is the same, byte for byte;
4. with `--plot` only, the recent history of the series the plot draws, from the parts that
   hold them.

A model whose quantiles make the band has no calibration round. The driver holds what one process
returns (one row per checked value) and the calibration errors (20 per series by default).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from forecast_cli.cluster import (Later, ModelRef, Notes, check_zones, cluster_errors, first_example,
                                  output_order, recent, relay, with_rows, worker_predictor, zoned)
from forecast_cli.data import ID, NothingAsOf, common_keys, source_name
from forecast_cli.detect import (CALIBRATION_MIN, COLUMNS, Band, Checking, Detection, Measured, band_from,
                                 calibration_errors, default_calibration)
from forecast_cli.output import Reporter


@dataclasses.dataclass(frozen=True)
class Survey:
    """One part's series: ids (sorted), those left out as shorter than the lookback, and those
    too short to check (a count and the first of them: id, values)."""

    index: int
    part: str
    ids: np.ndarray
    skipped: int
    skipped_example: tuple[str, int] | None
    short: int
    short_example: tuple[str, int] | None
    measured: Measured | None = None  # the calibration errors, where the part's count already set their stretch
    per_series: int = 0  # ... of this many values a series
    zoned: bool = False  # times read with UTC offsets, as UTC (`check_zones`)
    warnings: tuple[str, ...] = ()  # what reading the part warned of, for the driver to show (`relay`)
    left: np.ndarray = dataclasses.field(default_factory=lambda: np.array([], dtype=object))  # ids: skipped, short


def survey_part(model: ModelRef, as_of: str | None, skip_short: bool, check: Checking, calibration: int | None,
                index: int, part: str) -> Survey | Later:
    """Run on a worker: round 1, and round 2 where the part's count of series already sets the
    calibration stretch (see the module's docstring). A part with no row as of `as_of` holds
    nothing to check (`Later`), and no later round reads it."""
    predictor = worker_predictor(model)
    notes = Notes()
    try:
        ready = predictor.prepare(part, notes, as_of, skip_short, part=True, checking=True)
    except NothingAsOf as error:
        return Later.of(part, error)
    series, short = check.checkable(ready.series)
    measured, per_series = None, 0
    if not check.quantiles:
        per_series = calibration or default_calibration(len(series) + len(short))
        if per_series == (calibration or CALIBRATION_MIN):  # no larger file of series lowers it
            stretch = dataclasses.replace(check, per_series=per_series)
            measured = calibration_errors(stretch.one_step(predictor, ready, series), series, stretch) if series \
                else Measured()
    return Survey(index, part, np.array(list(series), dtype=object), len(ready.skipped),
                  next(iter(ready.skipped.items()), None), len(short), next(iter(short.items()), None),
                  measured, per_series, zoned(ready.dataset), tuple(notes.warnings),
                  np.array([*ready.skipped, *short], dtype=object))


def _checked(model: ModelRef, as_of: str | None, skip_short: bool, check: Checking, part: str):
    """A part read and made ready to check, as in one process: its series long enough to check
    and their one-step forecaster."""
    predictor = worker_predictor(model)
    ready = predictor.prepare(part, None, as_of, skip_short, part=True, checking=True)
    series, _ = check.checkable(ready.series)
    return ready, series, check.one_step(predictor, ready, series)


def measure_part(model: ModelRef, as_of: str | None, skip_short: bool, check: Checking, part: str) -> Measured:
    """Run on a worker: round 2, the part's calibration errors (none for a part whose every
    series was left out as short)."""
    _, series, one_step = _checked(model, as_of, skip_short, check, part)
    return calibration_errors(one_step, series, check) if series else Measured()


def judge_part(model: ModelRef, as_of: str | None, skip_short: bool, check: Checking, band: Band,
               part: str) -> pd.DataFrame:
    """Run on a worker: round 3, the part's checked values judged against its share of the band."""
    ready, series, one_step = _checked(model, as_of, skip_short, check, part)
    return check.judge(one_step, series, band, ready.dataset) if series else pd.DataFrame(columns=list(COLUMNS))


def history_part(model: ModelRef, as_of: str | None, skip_short: bool, part: str, ids: list[str],
                 keep: int) -> pd.DataFrame:
    """Run on a worker: round 4, the last `keep` values as read (`Dataset.as_read`: a gap where
    a value was filled in) of the part's series `ids` (as text), for the plot."""
    ready = worker_predictor(model).prepare(part, None, as_of, skip_short, part=True, checking=True)
    return recent(ready.dataset, ids, keep)


def detect_on_cluster(client: Any, model: ModelRef, data: Path, parts: list[Path], config: Any, last: int | None,
                      level: float, calibration: int | None, as_of: str | None, reporter: Reporter,
                      skip_short: bool = False, id_col: str | None = None,
                      plotted: Callable[[Detection], list[Any]] | None = None) -> Detection:
    """`detect.detect` with one task per part of `data` (`parts`: its units of work, from
    `cluster.whole_series`) in each round: the same rows and band (`id_col`: the model's id
    column, for the fix a series in two parts is given and the key columns' one type).
    `plotted`: the series a plot of the detection draws; their recent history, which one process
    has in `Detection.dataset`, is then read on the workers into `Detection.drawn`."""
    from forecast_cli.pipeline import short_series_error, short_series_warning

    source = source_name(data)
    common = [model, as_of, skip_short]
    paths = [str(p.resolve()) for p in parts]
    # The series that need checking do not depend on the file's count of series (a series needs
    # 10 calibration errors, or none with a quantile band), so the survey can use any count.
    surveyed = Checking.of(config, last, level, calibration, 1)
    surveys = _each_part(client, "the survey of the parts", survey_part, common, [surveyed], [calibration],
                         range(len(parts)), paths)
    surveys = with_rows(surveys, source, as_of)
    paths = [paths[s.index] for s in surveys]
    check_zones((s.part, s.zoned) for s in surveys)
    relay((s.warnings for s in surveys), reporter)
    order = output_order(surveys, id_col)  # a series in two parts is regrouped before anything is measured
    counted = sum(len(s.ids) + s.short for s in surveys)
    skipped = sum(s.skipped for s in surveys)
    if skipped:  # as `Predictor.prepare` says it of a whole file
        example = first_example(s.skipped_example for s in surveys)
        if skip_short and not counted:
            raise short_series_error(source, example, skipped, config.lookback, True)
        reporter.warn(short_series_warning(source, example, skipped, config.lookback))
    check = Checking.of(config, last, level, calibration, counted)
    short = sum(s.short for s in surveys)
    if short:
        check.leave_out(source, first_example(s.short_example for s in surveys), short, counted, skip_short, reporter)
    band = Band()
    if not check.quantiles:
        measured = [s.measured if s.per_series == check.per_series else None for s in surveys]
        again = [i for i, m in enumerate(measured) if m is None]
        if again:
            found = _each_part(client, "the calibration of the parts", measure_part, common, [check],
                               [paths[i] for i in again])
            for i, m in zip(again, found):
                measured[i] = m
        merged = _merged(measured)
        reporter.info(f"Measuring the model's one-step errors on {merged.count} values before the checked ones")
        band = band_from(merged, config.season, level)
    shares = [band.of(s.ids) for s in surveys]
    tables = _each_part(client, "the parts", judge_part, common, [check], shares, paths)
    table = common_keys(pd.concat([t for t in tables if len(t)], ignore_index=True), id_col)
    table = table.sort_values(ID, kind="stable").reset_index(drop=True)
    found = Detection(table=table, level=level, quantiles=check.quantiles, multiplier=band.multiplier,
                      calibration=band.errors, correction=band.correction, dataset=None, skipped=skipped + short)
    if plotted is None:
        return found
    ids = [str(uid) for uid in plotted(found)]
    where = order[order[ID].isin(ids)].groupby("part", sort=True)[ID].agg(list)
    keep = 3 * int(table[ID].value_counts().max()) if len(table) else 0  # as the plot keeps 3 x the checked values
    histories = _each_part(client, "the history of the plotted series", history_part, common,
                           [paths[k] for k in where.index], list(where), [keep]) if len(where) else []
    drawn = pd.concat(histories, ignore_index=True) if histories else pd.DataFrame(columns=[ID, "ds", "y"])
    return dataclasses.replace(found, drawn=drawn)


def _each_part(client: Any, what: str, fn: Callable[..., Any], common: list[Any], *per_part: Any) -> list[Any]:
    """`fn(*common, *per-part arguments)` for each part on the cluster, the results in part order.
    A one-item list in `per_part` is the same for every part."""
    n = max(len(p) for p in per_part)
    columns = [[value] * n for value in common] + [list(p) * n if len(p) == 1 else list(p) for p in per_part]
    futures = client.map(fn, *columns, pure=False)
    with cluster_errors(what, futures, client):
        return [future.result() for future in futures]


def _merged(measured: list[Measured]) -> Measured:
    """The parts' calibration errors as one file's, in its order of series (by id), so that the
    band is fitted to the same errors in the same order as in one process."""
    merged = Measured()
    for part in measured:
        for field in dataclasses.fields(Measured):
            getattr(merged, field.name).update(getattr(part, field.name))
    return merged.of(sorted(merged.errors, key=str))
