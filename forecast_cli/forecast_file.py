"""The forecast file: its columns (unique_id, ds, yhat, and q0.1, ... for quantiles), writing it and reading it back."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli.blend import point_forecast
from forecast_cli.config import TrainConfig
from forecast_cli.data import ID, PARQUET_SUFFIX, TIME, read_table
from forecast_cli.errors import DataError


def quantile_column(level: float) -> str:
    """The forecast file's column for one quantile level.

    Example:
        >>> quantile_column(0.1), quantile_column(0.975)
        ('q0.1', 'q0.975')
    """
    return f"q{level:g}"


QUANTILE_COLUMN = re.compile(r"^q(0?\.\d+)$")


def quantile_levels(frame: pd.DataFrame) -> dict[str, float]:
    """The quantile columns of a forecast frame (q0.1, q0.5, ...) and their levels, increasing."""
    found = {c: float(m.group(1)) for c in frame.columns if (m := QUANTILE_COLUMN.match(str(c)))}
    return dict(sorted(found.items(), key=lambda item: item[1]))


def forecast_frame(ids: list[str], times: np.ndarray, forecasts: np.ndarray, config: TrainConfig) -> pd.DataFrame:
    """The forecast file's rows: unique_id, ds, yhat, and one column per quantile (q0.1, ...)."""
    columns = {ID: np.repeat(ids, config.horizon), TIME: times,
               "yhat": point_forecast(forecasts, config.quantiles).reshape(-1)}
    for k, level in enumerate(config.quantiles):
        columns[quantile_column(level)] = forecasts[..., k].reshape(-1)
    return pd.DataFrame(columns)


def forecasts_to_csv(frame: pd.DataFrame) -> str:
    """The forecast file's text: fixed float formatting so equal forecasts give equal bytes."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.8g", lineterminator="\n")
    return buffer.getvalue()


def forecasts_to_parquet(frame: pd.DataFrame) -> bytes:
    """The forecast file as Parquet bytes (full float64 precision, dates as timestamps; no
    index). The same frame gives the same bytes: Parquet stores no write time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()


def encode_table(frame: pd.DataFrame, target: str | Path) -> bytes:
    """A result table (forecasts, detections) as the bytes of the file `target` names: Parquet
    for a `.parquet` path, else CSV."""
    if str(target).lower().endswith(PARQUET_SUFFIX):
        return forecasts_to_parquet(frame)
    return forecasts_to_csv(frame).encode("utf-8")


def read_forecasts(path: str | Path) -> pd.DataFrame:
    """A forecast file as `predict` wrote it: unique_id, ds (as text), yhat and any quantile columns.

    Example:
        >>> read_forecasts("forecast.csv").columns.tolist()
        ['unique_id', 'ds', 'yhat']
    """
    raw, _ = read_table(path)
    missing = sorted({ID, TIME, "yhat"} - set(raw.columns))
    if missing:
        raise DataError(
            f"{path} is not a forecast file: missing column(s) {', '.join(missing)}. Expected the "
            "unique_id, ds, yhat written by `forecast predict`."
        )
    numbers = ["yhat", *quantile_levels(raw)]
    frame = raw[[ID, TIME, *numbers]].copy()
    for column in numbers:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
        if frame[column].isna().any():
            line = int(np.flatnonzero(frame[column].isna().to_numpy())[0]) + 2
            raise DataError(
                f"{path}, line {line}: {column} is not a number. Expected the file as `forecast predict` wrote it."
            )
    frame[ID] = frame[ID].astype(str)
    return frame
