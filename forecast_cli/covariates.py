"""Past and future covariates: which columns, their rows for each series and the horizon, calendar features."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast_cli.config import TrainConfig
from forecast_cli.data import ID, TIME, Dataset, time_text
from forecast_cli.errors import DataError
from forecast_cli.output import counted
from forecast_cli.timegrid import CALENDAR_PREFIX, calendar_features
from forecast_cli.windows import Covariates, Scaling


def with_calendar(frame: pd.DataFrame, names: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """`frame` with the calendar columns among `names` computed from its timestamps."""
    names = [c for c in names if c.startswith(CALENDAR_PREFIX)]
    return pd.concat([frame, calendar_features(frame[TIME], tuple(names))], axis=1) if names else frame


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


def future_rows(dataset: Dataset, config: TrainConfig, last: pd.Series, times: np.ndarray,
                checking: bool = False) -> pd.DataFrame:
    """The `horizon` rows after each series' last value (`last`, by id; `times`, the forecast's
    timestamps), with their future covariates, from the rows the file gives after its values; a
    missing row or value is an error that names them. `checking`: for `detect`, which checks
    the last value against the forecast made the step before it, whose horizon ends a step
    sooner: the last row is never read there (empty, read as 0), and the error says why the
    others are needed."""
    names = list(from_file(config.future_covariates))
    expected = pd.DataFrame({ID: np.repeat(last.index.to_numpy(), config.horizon), TIME: times})
    given = dataset.future if dataset.future is not None else pd.DataFrame(columns=[ID, TIME, *names])
    given = given.astype({TIME: dataset.frame[TIME].dtype})
    expected[TIME] = expected[TIME].astype(dataset.frame[TIME].dtype)
    past_cols = [c for c in config.covariates if c not in config.future_covariates]
    rows = expected.merge(given[[ID, TIME, *names]], on=[ID, TIME], how="left")
    needed = config.horizon - 1 if checking else config.horizon
    read = np.tile(np.arange(config.horizon) < needed, len(last))
    gaps = rows[names].isna().any(axis=1).to_numpy() & read
    if gaps.any():
        first = rows[gaps].iloc[0]
        uid = first[ID]
        n_series = rows.loc[gaps, ID].nunique()
        raise DataError(
            f"{dataset.source}: series {uid!r} needs the future covariate(s) {', '.join(names)} for the "
            f"{counted(needed, 'step')} after its last value ({time_text(last[uid])}), but {int(gaps[rows[ID] == uid].sum())} "
            f"of them are missing, the first at {time_text(first[TIME])} ({n_series} series lack some). Add a row for each "
            f"of those times with the covariate values and an empty {dataset.columns.target_col!r}."
            + (" Checking values needs them too: each is compared with the forecast made the step before it, "
               "and the model reads the future covariates of that forecast's whole horizon (the rows a nightly "
               "file for predict has, but its last)." if checking else "")
        )
    for col in past_cols:
        rows[col] = 0.0  # not read by the network over the horizon
    return with_calendar(rows, config.future_covariates)
